"""List the CapWords names a trusted library's modules take from other libraries.

    python scripts/gen_pickle_reexports.py sklearn [--source DIR] [--update]

pickle-allowlist.toml trusts a library's classes by naming convention (`[[classes]]`:
CapWords names under `sklearn`). An unpickler imports `module.Name` by attribute lookup, so
`sklearn.callback._transport.Listener` is `multiprocessing.connection.Listener`: a name a
module merely imports is not a class it defines. This reads the library's source with `ast`
(never importing it) and prints, as TOML, every CapWords name bound at a module's top level
by an import from outside the library or by assigning an attribute of such an import.
With `--update` it rewrites the `reexports` list of the library's `[[classes]]` table.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import sys
from pathlib import Path

CLASS_NAME = re.compile(r"_?[A-Z][A-Za-z0-9_]*\Z")
ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "rules" / "models" / "pickle-allowlist.toml"


def _module_name(path: Path, source: Path, library: str) -> str:
    rel = path.relative_to(source).with_suffix("")
    parts = [library, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    # a package's __init__ is `module` itself; a plain module's package is its parent
    return ".".join([*base[: len(base) - node.level + 1], *([node.module] if node.module else [])])


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Statements at module level, through if / try blocks (conditional imports)."""
    out: list[ast.stmt] = []
    todo = list(tree.body)
    while todo:
        stmt = todo.pop(0)
        out.append(stmt)
        if isinstance(stmt, ast.If):
            todo.extend(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try):
            todo.extend(stmt.body + stmt.orelse + stmt.finalbody)
            for handler in stmt.handlers:
                todo.extend(handler.body)
    return out


def foreign_names(library: str, source: Path) -> dict[str, str]:
    """`module.Name` -> where the name comes from (`module.Name` of the other library)."""
    found: dict[str, str] = {}
    for path in sorted(source.rglob("*.py")):
        if "tests" in path.relative_to(source).parts:
            continue  # never in a fitted model
        module = _module_name(path, source, library)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        foreign_modules: dict[str, str] = {}
        for stmt in _top_level(tree):
            if isinstance(stmt, ast.ImportFrom):
                origin = _absolute(module, stmt)
                if origin == library or origin.startswith(library + "."):
                    continue
                for alias in stmt.names:
                    bound = alias.asname or alias.name
                    if CLASS_NAME.match(bound):
                        found[f"{module}.{bound}"] = f"{origin}.{alias.name}"
                    else:
                        foreign_modules[bound] = f"{origin}.{alias.name}"
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if not alias.name.startswith(library):
                        bound = alias.asname or alias.name.split(".")[0]
                        foreign_modules[bound] = alias.name if alias.asname else bound
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Attribute):
                root: ast.expr = stmt.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in foreign_modules:
                    dotted = ast.unparse(stmt.value)
                    origin = foreign_modules[root.id] + dotted[len(root.id) :]
                    for target in stmt.targets:
                        if isinstance(target, ast.Name) and CLASS_NAME.match(target.id):
                            found[f"{module}.{target.id}"] = origin
    return dict(sorted(found.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("library")
    parser.add_argument("--source", type=Path, help="the library's package directory")
    parser.add_argument("--update", action="store_true", help=f"rewrite {ALLOWLIST.name}")
    args = parser.parse_args()
    source = args.source
    if source is None:
        spec = importlib.util.find_spec(args.library)  # finds the files, imports nothing
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"{args.library}: not installed here; pass --source")
        source = Path(next(iter(spec.submodule_search_locations)))
    names = foreign_names(args.library, source)
    body = "".join(f'"{n}" = "{origin}"\n' for n, origin in names.items())
    block = f"[classes.reexports]\n{body}"
    if not args.update:
        print(block, end="")
        return
    text = ALLOWLIST.read_text(encoding="utf-8")
    pattern = re.compile(
        r'(modules = \["' + re.escape(args.library) + r'"\]\n(?:(?!\[).*\n)*?)'
        r"\[classes\.reexports\]\n(?:(?!\[).*\n)*"
    )
    if not pattern.search(text):
        sys.exit(f"no [classes.reexports] under modules = [{args.library!r}] in {ALLOWLIST}")
    ALLOWLIST.write_text(pattern.sub(lambda m: m.group(1) + block, text, count=1), "utf-8")
    print(f"{len(names)} names written to {ALLOWLIST}")


if __name__ == "__main__":
    main()
