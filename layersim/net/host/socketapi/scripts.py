"""Running a Python file as `__main__` inside a simulated process (host.run_script)."""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["run_file"]


def run_file(code: Any, path: str, argv: list[str]) -> Any:
    """Execute compiled `code` as the __main__ module with sys.argv set; SystemExit ends it with its code."""
    from layersim.net.engine.process import current_process

    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__builtins__ = __builtins__  # type: ignore[attr-defined]
    script_argv = [path, *argv]
    saved: list[list[str]] = []

    def switch(entering: bool) -> None:  # the script sees its argv only while it runs
        if entering:
            saved.append(sys.argv)
            sys.argv = script_argv
        elif saved:
            sys.argv = saved.pop()

    me = current_process()
    if me is not None:
        me.environment.append(switch)
        switch(True)
    try:
        exec(code, module.__dict__)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        if me is not None:
            switch(False)
            me.environment.remove(switch)
    return None
