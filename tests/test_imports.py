"""What importing a part of layersim loads: the wire layer and the capture files stand alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("greenlet", "matplotlib", "layersim.net", "layersim.viz", "layersim.app", "layersim.tcp")


@pytest.mark.parametrize("module", ["layersim.wire", "layersim.capture", "layersim"])
def test_import_loads_neither_the_simulation_nor_the_pictures(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []


def test_top_level_names_load_on_first_use() -> None:
    code = ("import sys, layersim; n = layersim.Network; v = layersim.viz; from layersim import sleep, DropReason; "
            "extra = sorted(set(dir(layersim)) - set(layersim.__all__)); "
            "print(n.__module__, v.__name__, 'greenlet' in sys.modules, extra)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["layersim.net.network", "layersim.viz", "True", "[]"]


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    import layersim

    with pytest.raises(AttributeError, match="no attribute 'Netwrok'"):
        layersim.Netwrok  # noqa: B018
