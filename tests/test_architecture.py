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
    "layersim.net.ipv6": {"layersim.errors", "layersim.wire", "layersim.net.trace", "layersim.net.engine",
                          "layersim.net.ip"},
    "layersim.net.host": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net.trace",
                          "layersim.net.engine", "layersim.net.ip", "layersim.net.ipv4", "layersim.net.ipv6"},
    "layersim.view": {"layersim.errors", "layersim.wire", "layersim.net.trace"},
    "layersim.net": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                     "layersim.net.trace", "layersim.view",
                     "layersim.net.engine", "layersim.net.ip", "layersim.net.nat", "layersim.net.ipv4",
                     "layersim.net.ipv6", "layersim.net.host"},
    "layersim.app": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                     "layersim.net"},
    "layersim.tcpcheck": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net"},
    "layersim.viz": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net", "layersim.app"},
    "layersim.demo": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.dns", "layersim.capture",
                      "layersim.net",
                      "layersim.app", "layersim.viz", "layersim.terminal"},
    "layersim.sweep": {"layersim.errors", "layersim.wire", "layersim.tcp", "layersim.net", "layersim.app",
                       "layersim.viz", "layersim.terminal"},
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


def _module_graph() -> dict[str, set[str]]:
    """module -> the layersim modules it imports (a `from package import name` counts the submodule it names)."""
    names = {module_name(path): path for path in FILES}
    graph: dict[str, set[str]] = {name: set() for name in names}
    for source, path in names.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against the importing module's package
                    package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
                    base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])])
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in names else base
                           for alias in node.names]
            graph[source].update(t for t in targets if t in names and t != source)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(group)
    return found


# The one circle left, inside wire/: Layer's `/` makes a Packet and Packet's show/hexdump/summary call the
# presentation modules, which read Packets (the fluent API's two value types know each other). It may shrink,
# never grow, and no other may appear.
WIRE_FLUENT_API = "layersim.wire."


def test_no_module_imports_itself_back() -> None:
    """No import circles between modules, counting imports inside functions and under TYPE_CHECKING."""
    circles = _circles(_module_graph())
    outside = [sorted(group) for group in circles if not all(m.startswith(WIRE_FLUENT_API) for m in group)]
    assert not outside, outside
    wire = [group for group in circles if all(m.startswith(WIRE_FLUENT_API) for m in group)]
    assert len(wire) <= 1 and all({"layersim.wire.fields", "layersim.wire.packet"} <= group for group in wire), wire


def test_the_circle_check_finds_circles() -> None:
    """The check sees a two-module circle and a three-module one, and nothing in a chain."""
    assert _circles({"a": {"b"}, "b": {"a"}}) == [{"a", "b"}]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
