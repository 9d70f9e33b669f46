"""The package map of README's "Architecture" section, enforced: every import in layersim (at module level, inside
functions and under TYPE_CHECKING alike) goes from a package to one the map lets it use, and no module imports
itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "layersim"

# package -> the packages it may import (besides itself); a module belongs to the longest package that holds it
MAY_IMPORT: dict[str, set[str]] = {
    "layersim.errors": set(),
    "layersim.wire": {"layersim.errors"},
    "layersim.capture": {"layersim.errors", "layersim.wire"},
    "layersim.tcp": {"layersim.errors", "layersim.wire"},
    "layersim.dns": {"layersim.errors", "layersim.wire"},
    "layersim.net.trace": {"layersim.errors", "layersim.wire"},
    "layersim.net.engine": {"layersim.errors", "layersim.wire", "layersim.capture", "layersim.net.trace"},
    "layersim.net.ip": {"layersim.errors", "layersim.wire", "layersim.net.trace", "layersim.net.engine"},
    "layersim.net.nat": {"layersim.errors", "layersim.wire", "layersim.net.trace", "layersim.net.engine",
                         "layersim.net.ip"},
    "layersim.net.ipv4": {"layersim.errors", "layersim.wire", "layersim.net.trace", "layersim.net.engine",
                          "layersim.net.ip", "layersim.net.nat"},
    "layersim.net.host": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net.trace",
                          "layersim.net.engine", "layersim.net.ip", "layersim.net.ipv4"},
    "layersim.net": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                     "layersim.net.trace",
                     "layersim.net.engine", "layersim.net.ip", "layersim.net.nat", "layersim.net.ipv4",
                     "layersim.net.host"},
    "layersim.app": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                     "layersim.net"},
    "layersim.tcpcheck": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net"},
    "layersim.viz": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net", "layersim.app"},
    "layersim.demo": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                      "layersim.net",
                      "layersim.app", "layersim.viz", "layersim.terminal"},
    "layersim.terminal": {"layersim.errors"},
    "layersim.examples": {"layersim.errors", "layersim.wire"},
    "layersim.cli": {"layersim"},  # the command line may use everything
    "layersim": {"layersim.errors", "layersim.wire", "layersim.net", "layersim.viz"},  # the package's face
}
# modules that are not a package of their own but belong to one in the map
ALIASES = {"layersim.demo_story": "layersim.demo", "layersim.demo_render": "layersim.demo",
           "layersim.demo_https": "layersim.demo"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    module = ALIASES.get(module, module)
    candidates = [p for p in MAY_IMPORT if module == p or module.startswith(p + ".")]
    assert candidates, f"{module} is in no package of the map"
    return max(candidates, key=len)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every layersim import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("layersim")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("layersim"):
            found.append((node.lineno, node.module))
    return found


def allowed(source: str, target: str) -> bool:
    mine, theirs = package_of(source), package_of(target)
    if mine == theirs or ("layersim" in MAY_IMPORT[mine] and mine == "layersim.cli"):
        return True
    return theirs in MAY_IMPORT[mine] or any(theirs.startswith(p + ".") and p != "layersim"
                                             for p in MAY_IMPORT[mine])


FILES = sorted(ROOT.rglob("*.py"))


def test_every_import_follows_the_package_map() -> None:
    wrong = []
    for path in FILES:
        source = module_name(path)
        may = ", ".join(sorted(MAY_IMPORT[package_of(source)]))
        wrong += [f"{path.relative_to(ROOT.parent)}:{line}: {source} imports {target} ({package_of(source)} may "
                  f"import {may})" for line, target in imports(path) if not allowed(source, target)]
    assert not wrong, "\n".join(wrong)


def test_the_map_covers_every_module() -> None:
    for path in FILES:
        package_of(module_name(path))


def test_the_map_has_no_circles() -> None:
    """Package A may import B and B may import A never both (so the map itself is layered)."""
    for a, uses in MAY_IMPORT.items():
        for b in uses:
            assert not (b in MAY_IMPORT and a in MAY_IMPORT[b]), (a, b)


def test_the_check_catches_an_arrow_up(tmp_path: Path) -> None:
    """The rule fails where it must: wire importing the simulation, net importing app, engine importing host."""
    assert not allowed("layersim.wire.tcp", "layersim.net.engine.clock")
    assert not allowed("layersim.net.host.host", "layersim.app.ping")
    assert not allowed("layersim.net.engine.process", "layersim.net.host.host")
    assert not allowed("layersim.capture.pcapng", "layersim.net.trace.log")
    assert allowed("layersim.net.host.tcp_stack", "layersim.tcp.connection")
    assert allowed("layersim.cli", "layersim.viz.figures")
