"""Headless Chromium through selenium, for the page tests and the README screenshot (tests/view/screenshot.py).

Debian's `chromium` and `chromium-driver` (.ci/run installs them); CI sets LAYERSIM_REQUIRE_BROWSER=1 so that a
missing browser fails there instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM = os.environ.get("LAYERSIM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LAYERSIM_CHROMEDRIVER", "/usr/bin/chromedriver")


def missing() -> str | None:
    """Why no browser can run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def start(width: int = 1400, height: int = 1000) -> Any:
    """A headless Chromium with its performance log on (every network request the page makes is logged)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
