"""The layering DESIGN.md draws, read from the source with `ast` (nothing is imported).

- no import cycle between scanner modules (imports inside functions count; only those
  under `if TYPE_CHECKING:` do not, as they never run);
- sources only parse: no `scanner.sources` module imports `scanner.checks`;
- infra serves everyone: no `scanner.infra` module imports `scanner.checks`;
- checks only judge: no check imports the CLI or the reporters;
- `scanner.models` and `scanner.errors` are the bottom: they import nothing of the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scanner"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at top level, in functions, in branches; not
    the body of `if TYPE_CHECKING:` (its `else:` does run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        yield from _imports(node)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may load."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join([*base, *([node.module] if node.module else [])])
    else:
        name = node.module or ""
    # `from a import b` loads a, and a.b when b is a module.
    return [name, *(f"{name}.{alias.name}" for alias in node.names)]


def _with_parents(name: str) -> Iterator[str]:
    """Importing a.b.c runs a, a.b and a.b.c."""
    parts = name.split(".")
    for n in range(1, len(parts) + 1):
        yield ".".join(parts[:n])


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the scanner modules it names in an import that can run."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _imports(tree):
            for target in _targets(node, name, path.name == "__init__.py"):
                if target in modules:
                    edges.add(target)
        edges.discard(name)
        graph[name] = edges
    return graph


def _runs(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Module -> every module its imports run: the named ones and their parent packages.
    A module's own parent packages are already running when it is imported, so an edge
    to them (`from scanner import __version__`) closes no cycle."""
    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        edges = {p for t in targets for p in _with_parents(t) if p in graph}
        out[name] = {e for e in edges if e != name and not name.startswith(e + ".")}
    return out


def cycles(imports: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph = _runs(imports)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that crosses a layer the wrong way, as `a -> b (why)`."""
    out: list[str] = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _in(module, "scanner.sources") and _in(target, "scanner.checks"):
                out.append(f"{module} -> {target} (sources only parse)")
            if _in(module, "scanner.infra") and _in(target, "scanner.checks"):
                out.append(f"{module} -> {target} (infra serves the checks, never the reverse)")
            if _in(module, "scanner.checks") and (
                _in(target, "scanner.cli") or _in(target, "scanner.reporters")
            ):
                out.append(f"{module} -> {target} (checks only judge)")
            if module in ("scanner.models", "scanner.errors"):
                out.append(f"{module} -> {target} (the bottom layer imports nothing)")
    return out


GRAPH = import_graph(_modules())


def test_the_graph_sees_the_package() -> None:
    assert len(GRAPH) > 50
    assert "scanner.checks.interface" in GRAPH["scanner.gate"]
    assert "scanner.errors" in GRAPH["scanner.policy"]


def test_no_import_cycle_between_scanner_modules() -> None:
    assert cycles(GRAPH) == []


def test_layers_import_only_downwards() -> None:
    assert violations(GRAPH) == []


# -- the test's own machinery, on made-up packages --------------------------------------------


def _graph_of(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    modules = {
        ".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(tmp_path.rglob("*.py"))
    }
    return import_graph(modules)


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    graph = _graph_of(
        tmp_path,
        {
            "scanner/__init__.py": "",
            "scanner/a.py": "from scanner import b\n",
            "scanner/b.py": "def f():\n    from scanner.a import x\n",
            "scanner/c.py": "from .a import y\n",
        },
    )
    assert cycles(graph) == [["scanner.a", "scanner.b"]]


def test_imports_under_type_checking_do_not_count(tmp_path: Path) -> None:
    graph = _graph_of(
        tmp_path,
        {
            "scanner/__init__.py": "",
            "scanner/a.py": "import scanner.b\n",
            "scanner/b.py": (
                "import typing\nif typing.TYPE_CHECKING:\n    from scanner.a import x\n"
                "else:\n    import scanner.c\n"
            ),
            "scanner/c.py": "",
        },
    )
    assert cycles(graph) == []
    assert graph["scanner.b"] == {"scanner.c"}


@pytest.mark.parametrize(
    ("module", "text", "why"),
    [
        ("scanner/sources/x.py", "def f():\n    import scanner.checks.models.y\n", "only parse"),
        ("scanner/infra/x.py", "from scanner.checks.models.y import z\n", "never the reverse"),
        ("scanner/checks/m/check.py", "from scanner.reporters import text\n", "only judge"),
        ("scanner/checks/m/check.py", "from ...cli.common import main\n", "only judge"),
        ("scanner/models.py", "from scanner.errors import E\n", "imports nothing"),
        ("scanner/errors.py", "from scanner import __version__\n", "imports nothing"),
    ],
)
def test_each_layer_rule_can_fail(tmp_path: Path, module: str, text: str, why: str) -> None:
    files = {
        "scanner/__init__.py": "",
        "scanner/errors.py": "",
        "scanner/models.py": "",
        "scanner/sources/__init__.py": "",
        "scanner/infra/__init__.py": "",
        "scanner/checks/__init__.py": "",
        "scanner/checks/models/__init__.py": "",
        "scanner/checks/models/y.py": "",
        "scanner/checks/m/__init__.py": "",
        "scanner/reporters/__init__.py": "",
        "scanner/reporters/text.py": "",
        "scanner/cli/__init__.py": "",
        "scanner/cli/common.py": "",
        module: text,
    }
    found = violations(_graph_of(tmp_path, files))
    assert found and all(why in f for f in found), found
