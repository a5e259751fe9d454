"""Name resolution: a callee or attribute chain resolved to a dotted name through the
module's imports and the usual tricks (`__import__`, `getattr` with a folded name,
`globals()[...]`, `__builtins__`)."""

from __future__ import annotations

import ast

from scanner.checks.heuristics.state import _State


class _Names(_State):
    """Resolves names (the layer above the state)."""

    def qualname(self, node: ast.AST) -> str | None:
        """Resolve a callee / attribute chain to a dotted name through imports and tricks."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in (
                "exec",
                "eval",
                "compile",
                "__import__",
                "getattr",
                "open",
                "globals",
                "locals",
                "vars",
                "setattr",
                "input",
                "print",
                "chr",
                "ord",
                "bytes",
                "str",
                "map",
                "bytearray",
                "dict",
                "repr",
                "list",
                "tuple",
                "set",
                "type",
                "hasattr",
                "iter",
                "next",
                "zip",
            ):
                return "builtins." + node.id
            if node.id in ("__builtins__", "builtins"):
                return "builtins"
            return node.id
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            if base is None:
                return None
            if base == "builtins" and node.attr == "__dict__":
                return "builtins"
            return f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            callee = self.qualname(node.func)
            if callee in ("builtins.__import__", "importlib.import_module") and node.args:
                mod = self.fold(node.args[0])
                if isinstance(mod, str):
                    if mod == "builtins" or mod == "__builtin__":
                        self.hit("builtins-access", node, f"__import__({mod!r})")
                        return "builtins"
                    if (
                        callee == "builtins.__import__"
                        and len(node.args) < 4
                        and not any(k.arg == "fromlist" for k in node.keywords)
                    ):
                        # `__import__("urllib.request")` imports the submodule but returns
                        # the top-level package, as the import statement binds it
                        return mod.split(".")[0]
                    return mod
            if callee == "builtins.getattr" and len(node.args) >= 2:
                attr = self.fold(node.args[1])
                if isinstance(attr, str):
                    base = self.qualname(node.args[0])
                    if not isinstance(node.args[1], ast.Constant):
                        self.hit("obfuscated-names", node, f"getattr(..., {attr!r})")
                    if base is not None:
                        return f"{base}.{attr}"
            if callee in ("builtins.globals", "builtins.locals", "builtins.vars"):
                return "<namespace>"
            if callee == "builtins.get" and node.args:
                # globals()["__builtins__"].get("exec")
                key = self.fold(node.args[0])
                if isinstance(key, str) and key.isidentifier():
                    if not isinstance(node.args[0], ast.Constant):
                        self.hit("obfuscated-names", node, f"builtins looked up as {key!r}")
                    return "builtins." + key
            if callee is not None and callee.endswith("Fernet"):
                return callee
            return None
        if isinstance(node, ast.Subscript):
            base = self.qualname(node.value)
            key = self.fold(node.slice)
            if base in ("<namespace>", "builtins", "builtins.__dict__") and isinstance(key, str):
                if key == "__builtins__":
                    if not isinstance(node.slice, ast.Constant):
                        self.hit("builtins-access", node, "__builtins__ reached by a computed name")
                        self.hit("obfuscated-names", node, "__builtins__ spelled out")
                    return "builtins"
                return (
                    ("builtins." + key)
                    if base != "<namespace>"
                    else self.qualname(ast.Name(id=key))
                )
        return None
