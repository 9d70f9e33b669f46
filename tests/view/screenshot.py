"""Take the README's picture of the page: the demo's GET as the home router forwards it, TTL field lit.

Run from the repository root: `python -m tests.view.screenshot [docs/view.png]` (needs chromium, chromedriver).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from layersim.demo import run
from layersim.view import write_html
from tests.view import browser
from tests.view.tools import get_packet_id, sends_of

DEFAULT = Path(__file__).resolve().parents[2] / "docs" / "view.png"


def take(out: Path = DEFAULT) -> Path:
    """Write the demo's page, open it at the home router's hop of the GET, click the TTL field, save a PNG."""
    net = run(seed=1).network
    hop = sends_of(net, get_packet_id(net))[1]
    with tempfile.TemporaryDirectory() as folder:
        page = write_html(net, Path(folder) / "demo.html", title='requests.get("http://example.com/") on a small '
                          "internet")
        driver = browser.start(1400, 1200)
        try:
            driver.get(f"{page.as_uri()}#e{hop}")
            driver.find_element("css selector", '.tree .field[data-field="ttl"]').click()
            driver.execute_script("document.getElementById('detail').scrollTop = 0; window.scrollTo(0, 0)")
            driver.find_element("id", "title").click()  # the pointer leaves the tree: only the clicked field is lit
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    return out


if __name__ == "__main__":
    print(take(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
