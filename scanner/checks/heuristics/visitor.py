"""The visitor: walks one module's tree, tracking units (functions, classes, the
`__main__` block), imports and assignments, and hands calls and strings to the detectors."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from scanner.checks.heuristics.detectors import _Detectors
from scanner.checks.heuristics.values import (
    Value,
    _Unknown,
)
from scanner.checks.heuristics.vocabulary import (
    _CALLBACK_SINKS,
    _SETUP_HOOK_BASES,
    ATTRIBUTE_SIGNALS,
    CALLBACK_SIGNALS,
    DECODER_NAMES,
    HOOK_SIGNALS,
    string_signals,
)

_VISITORS: dict[type, Callable[[_Analyzer, ast.AST], None]] = {}
_FIXED_SENDS = frozenset(
    {
        "requests.post",
        "requests.put",
        "requests.patch",
        "requests.get",
        "httpx.post",
        "httpx.put",
        "httpx.get",
        "urllib.request.urlopen",
    }
)
"""Module-level request functions: no session or client object keeps what they return."""
_CREDENTIAL_NAME = re.compile(
    r"(?i)(?:^|_)(?:access_?key(?:_?id|_?secret)?|secret(?:_?access)?(?:_?key)?|sk|ak"
    r"|password|passwd|private_?key|api_?key|auth_?token|access_?token|refresh_?token"
    r"|mnemonic|seed_?phrase|security_?token|client_?secret)$"
)
"""Names of credential values, as SDKs and wallets call them."""


def _label(node: ast.expr | None) -> str | None:
    """A dict key's text, or the last name of a value (`cfg.access_key_secret`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


_PATCH_WRAPPERS = frozenset(
    {
        "builtins.classmethod",
        "builtins.staticmethod",
        "builtins.property",
        "types.MethodType",
        "functools.partial",
        "functools.partialmethod",
        "functools.update_wrapper",
    }
)
"""Wrappers the object model calls through: a function wrapped in one and assigned over
a library's attribute still runs when the library's attribute is used."""


class _Analyzer(_Detectors):
    """Walks one module, collecting hits per unit, folding constants as it goes."""

    def visit(self, node: ast.AST) -> None:
        method = _VISITORS.get(type(node))
        if method is None:
            method = (
                getattr(type(self), "visit_" + type(node).__name__, None) or _Analyzer.generic_visit
            )
            _VISITORS[type(node)] = method
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                self.aliases.setdefault(top, top)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        for a in node.names:
            if a.name == "*":
                continue
            self.aliases[a.asname or a.name] = f"{mod}.{a.name}" if mod else a.name
            if mod in ("builtins", "__builtin__") and a.name in (
                "exec",
                "eval",
                "compile",
                "__import__",
                "getattr",
            ):
                self.hit("builtins-access", node, f"from {mod} import {a.name}")
            for sig in ATTRIBUTE_SIGNALS.get(f"{mod}.{a.name}", ()):
                self.hit(sig, node, f"from {mod} import {a.name}")
        self.generic_visit(node)

    def _enter_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qual = ".".join([*self.class_stack, node.name])
        unit = self.unit_prefix + qual
        self.defined.setdefault(node.name, unit)
        if self.class_stack:
            self.defined.setdefault(f"{self.class_stack[-1]}.{node.name}", unit)
        for dec in node.decorator_list:
            self.visit(dec)
            # `@atexit.register`: the function runs where the decorator does
            for sig in CALLBACK_SIGNALS.get(self.qualname(dec) or "", ()):
                self.calls_from.setdefault(self.unit, set()).add(node.name)
                self.hit(sig, dec, f"@{ast.unparse(dec)[:60]} {node.name}")
        if not self.class_stack and len(self.unit_stack) == 1:
            # a hook that the host program (pip's build frontend, pytest) calls on load
            for sig in HOOK_SIGNALS.get(node.name, ()):
                self.calls_from.setdefault(self.unit, set()).add(node.name)
                self.hit(sig, node, f"def {node.name}(...)")
        self.unit_stack.append(unit)
        self.params.append(
            (
                node.name,
                [
                    a.arg
                    for a in (*node.args.posonlyargs, *node.args.args)
                    if a.arg not in ("self", "cls")
                ],
            )
        )
        saved_consts = dict(self.consts)
        saved_assigned = dict(self.assigned)
        for stmt in node.body:
            self.visit(stmt)
        written_here = {k for u, k in self.written if u == unit}
        if written_here:
            for ret in ast.walk(node):
                if (
                    isinstance(ret, ast.Return)
                    and isinstance(ret.value, ast.Name)
                    and ret.value.id in written_here
                ):
                    self.returns_written.add(node.name)
        self.params.pop()
        # only a function that calls a decoder can be a decoder wrapper (walking every
        # function's body to find out costs a third of the analysis on big packages)
        wrapper = (
            self._wrapped_decoder(node, dict(self.assigned)) if unit in self.decoder_units else None
        )
        if wrapper is not None:
            self.decoder_wrappers[node.name] = wrapper
            if self.class_stack:
                self.decoder_wrappers[f"self.{node.name}"] = wrapper
                self.decoder_wrappers[f"cls.{node.name}"] = wrapper
        self.consts, self.assigned = saved_consts, saved_assigned
        self.unit_stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter_function(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            len(self.unit_stack) == 1
            and isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
        ):
            # `if __name__ == "__main__":` runs as a script, never on import
            self.visit(test)
            self.unit_stack.append(self.unit_prefix + "<main>")
            for stmt in node.body:
                self.visit(stmt)
            self.unit_stack.pop()
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def _iterates_environ(self, it: ast.expr, node: ast.AST) -> None:
        # `for k in os.environ` / `[k for k in os.environ]`: every variable, one by one
        if self.qualname(it) == "os.environ":
            self.hit("env-all", node, "iterates over os.environ")

    def visit_For(self, node: ast.For) -> None:
        self._iterates_environ(node.iter, node)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._iterates_environ(node.iter, node.iter)
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [self.qualname(b) or "" for b in node.bases]
        if any(b.split(".")[-1] in _SETUP_HOOK_BASES for b in bases):
            self.hook_units.add(self.unit_prefix + node.name)
        self.class_stack.append(node.name)
        for b in node.bases:
            self.visit(b)
        for stmt in node.body:
            self.visit(stmt)
        self.class_stack.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)
        value = self.fold(node.value)
        for target in node.targets:
            if (
                isinstance(target, ast.Tuple)
                and isinstance(node.value, ast.Tuple)
                and len(target.elts) == len(node.value.elts)
            ):
                # `a, b, c = exec, str, map`: names for builtins, dealt out in one line
                renamed: list[str] = []
                for t, v in zip(target.elts, node.value.elts, strict=True):
                    q = self.qualname(v)
                    if isinstance(t, ast.Name) and q is not None and q.startswith("builtins."):
                        self.aliases[t.id] = q
                        if t.id.strip("_").lower() != q.split(".")[-1].strip("_"):
                            renamed.append(q.split(".")[-1])  # not `_dict = dict`
                if len(renamed) >= 3 and set(renamed) & {"exec", "eval", "compile", "__import__"}:
                    self.hit(
                        "obfuscated-names",
                        node,
                        f"{len(renamed)} builtins given other names at once ({renamed[0]}...)",
                    )
            if isinstance(target, ast.Name) and len(self.unit_stack) == 1:
                self.module_names.add(target.id)
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Lambda):
                # `b64d = lambda s: b64decode(s)`
                fake = ast.FunctionDef(
                    name=target.id,
                    args=node.value.args,
                    body=[ast.Return(value=node.value.body)],
                    decorator_list=[],
                    returns=None,
                )
                wrapper = self._wrapped_decoder(fake, {})
                if wrapper is not None:
                    self.decoder_wrappers[target.id] = wrapper
            if isinstance(target, ast.Name):
                if not isinstance(value, _Unknown):
                    self.consts[target.id] = value
                    self._note_constant(value, node)
                else:
                    self.consts.pop(target.id, None)
                self.assigned[target.id] = node.value
                # `x = __import__("os")` / `e = eval` make aliases
                q = self.qualname(node.value)
                if q is not None and (
                    q == "builtins"
                    or q.startswith(
                        (
                            "builtins.",
                            "os",
                            "subprocess",
                            "base64",
                            "zlib",
                            "marshal",
                            "socket",
                            "urllib",
                            "requests",
                        )
                    )
                ):
                    self.aliases[target.id] = q
            elif isinstance(target, ast.Attribute):
                patched = self._patch_value(node.value)
                if patched is not None:
                    self._monkey_patch(target.value, patched, node)
            if isinstance(target, ast.Attribute) and target.attr == "daemon":
                v = node.value
                if isinstance(v, ast.Constant) and v.value is True:
                    self.hit("daemon-thread", node, ".daemon = True")

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            name = node.target.id
            # `s += chr(ord(c) ^ k)` in a loop: what the name holds comes from both
            previous = self.assigned.get(name)
            self.assigned[name] = ast.Tuple(
                elts=[e for e in (previous, node.value) if isinstance(e, ast.expr)], ctx=ast.Load()
            )
            self.consts.pop(name, None)

    def _note_constant(self, value: Value, node: ast.AST) -> None:
        """A folded constant assigned to a name: look at it as a string."""
        if isinstance(value, (str, bytes)) and not isinstance(node, ast.Constant):
            self._string(value, node, folded=True)

    def _visit_literal_container(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        # data tables (parser tables, unicode maps) are large: look at their strings only
        if len(node.elts) > 16 and all(isinstance(e, ast.Constant) for e in node.elts):
            for e in node.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
                    self.visit_Constant(e)
            return
        self.generic_visit(node)

    def visit_List(self, node: ast.List) -> None:
        self._visit_literal_container(node)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._visit_literal_container(node)

    def visit_Set(self, node: ast.Set) -> None:
        self._visit_literal_container(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(self.qualname(v) == "os.environ" for v in node.values[:200]):
            self.hit("env-all", node, "os.environ inside a dict")
        if (
            len(node.values) > 16
            and all(isinstance(e, ast.Constant) for e in node.values)
            and all(isinstance(k, ast.Constant) for k in node.keys)
        ):
            for e in (*node.keys, *node.values):
                if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
                    self.visit_Constant(e)
            return
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        # a bare string statement (a docstring) is never executed: skip it
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        if isinstance(node.value, ast.Call):
            self._credential_sent(node.value)
        self.generic_visit(node)

    def _credential_sent(self, call: ast.Call) -> None:
        """A request to a fixed address whose payload holds values named as credentials
        (`{"ak": cfg.access_key_id, "secret": cfg.access_key_secret}`) and whose reply is
        thrown away: the call does nothing for the caller, it only hands the secret over.
        A client that authenticates with a credential reads the reply (a token, a
        session, a result)."""
        q = self.qualname(call.func) or ""
        if q not in _FIXED_SENDS:
            return
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        url_node = call.args[0] if call.args else kw.get("url")
        url = self.fold(url_node) if url_node is not None else None
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            return
        payload = [kw[k] for k in ("json", "data", "params", "files") if k in kw]
        payload += list(call.args[1:2])
        for part in payload:
            named = self._credential_named(part)
            if named is not None:
                self.hit("credential-sent", call, f"{q}({url[:60]!r}, ... {named} ...)")
                return

    def _credential_named(self, node: ast.expr, depth: int = 0) -> str | None:
        """The first key or value of a payload that names a credential, looking through
        a local name to the dict it was assigned."""
        if isinstance(node, ast.Name) and depth < 2:
            bound = self.assigned.get(node.id)
            if isinstance(bound, ast.expr):
                return self._credential_named(bound, depth + 1)
            return None
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                for part in (k, v):
                    label = _label(part)
                    if label is not None and _CREDENTIAL_NAME.search(label):
                        return label
        if isinstance(node, ast.Call) and self.qualname(node.func) == "builtins.dict":
            for item in node.keywords:
                label = _label(item.value)
                for name in (item.arg, label):
                    if name is not None and _CREDENTIAL_NAME.search(name):
                        return name
        return None

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)):
            self._string(node.value, node, folded=False)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        folded = self.fold(node)
        if isinstance(folded, str):
            self._string(folded, node, folded=True)
        for piece in node.values:
            if isinstance(piece, ast.FormattedValue) and self.qualname(piece.value) in (
                "os.environ",
                "os.environ.copy",
                "os.environ.items",
            ):
                self.hit("env-all", node, "os.environ formatted into a string")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # fold the outermost operation only: folding every level is quadratic
        if not getattr(node, "_ws_folded", False):
            for sub in ast.walk(node):
                if isinstance(sub, ast.BinOp):
                    sub._ws_folded = True  # type: ignore[attr-defined]
            folded = self.fold(node)
            if isinstance(folded, (str, bytes)):
                self._string(folded, node, folded=True)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        q = self.qualname(node)
        if q == "os.environ" and not isinstance(
            getattr(node, "_ws_parent", None), (ast.Subscript, ast.Attribute)
        ):
            pass
        if (
            q is not None
            and q.startswith("builtins.")
            and q.split(".")[-1] in ("exec", "eval", "compile")
            and not isinstance(node.value, ast.Name)
        ):
            self.hit("builtins-access", node, q)
        for sig in ATTRIBUTE_SIGNALS.get(q or "", ()):
            self.hit(sig, node, q or "")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        q = self.qualname(node.value)
        key = self.fold(node.slice)
        if q == "os.environ" and isinstance(key, str):
            for sig, ev in string_signals(key):
                if sig == "secret-env":
                    self.hit("env-secret-read", node, f"os.environ[{ev!r}]")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        q = self.qualname(node.func)
        # call graph (for what runs at import time)
        if isinstance(node.func, ast.Name):
            self.calls_from.setdefault(self.unit, set()).add(node.func.id)
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            self.calls_from.setdefault(self.unit, set()).add(
                f"{node.func.value.id}.{node.func.attr}"
            )
            if node.func.value.id == "self" and self.class_stack:
                self.calls_from.setdefault(self.unit, set()).add(
                    f"{self.class_stack[-1]}.{node.func.attr}"
                )
        sink = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else (node.func.id if isinstance(node.func, ast.Name) else "")
        )
        if sink in _CALLBACK_SINKS or q in ("atexit.register", "signal.signal"):
            # a function handed to something that calls it (`atexit.register(f)`,
            # `pool.submit(f)`, `Timer(1, f)`); not a CLI or plugin registry, which only
            # calls it if asked
            for arg in (*node.args, *(k.value for k in node.keywords if k.arg != "target")):
                if isinstance(arg, ast.Name) and arg.id not in self.aliases:
                    self.calls_from.setdefault(self.unit, set()).add(arg.id)
        for kw in node.keywords:
            # Thread(target=f) / Process(target=f): f runs too
            if kw.arg == "target" and isinstance(kw.value, ast.Name):
                self.calls_from.setdefault(self.unit, set()).add(kw.value.id)
            if (
                kw.arg == "target"
                and isinstance(kw.value, ast.Attribute)
                and isinstance(kw.value.value, ast.Name)
                and kw.value.value.id == "self"
                and self.class_stack
            ):
                self.calls_from.setdefault(self.unit, set()).add(
                    f"{self.class_stack[-1]}.{kw.value.attr}"
                )
        callee = (
            node.func.id
            if isinstance(node.func, ast.Name)
            else (node.func.attr if isinstance(node.func, ast.Attribute) else None)
        )
        if callee is not None and node.args and len(self.call_sites) < 10_000:
            self.call_sites.append((self.unit, node, callee))
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and node.args
            and isinstance(node.args[0], (ast.Call, ast.ListComp, ast.GeneratorExp))
        ):
            # "".join(map(chr, [...])) written inline: fold it to see the string
            joined = self.fold(node)
            if isinstance(joined, str):
                self._string(joined, node, folded=True)
        self._catalogue_call(node, q)
        if (
            q == "builtins.setattr"
            and len(node.args) == 3
            and isinstance(node.args[0], (ast.Name, ast.Attribute))
        ):
            patched = self._patch_value(node.args[2])
            if patched is not None:
                self._monkey_patch(node.args[0], patched, node)
        if q is not None:
            self._call(node, q)
            if q in self.decoder_wrappers:
                self.hit("decode", node, f"{q}(...) (a local decoder)")
            if q in self.decoder_wrappers or q in DECODER_NAMES:
                self.decoder_units.add(self.unit)
            if q in self.decoder_wrappers or (q in DECODER_NAMES and q != "marshal.loads"):
                decoded = self.fold(node)
                if isinstance(decoded, (str, bytes)):
                    self._string(decoded, node, folded=True, decoded=True)
        elif isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr == "decrypt":
                self.hit("decode", node, ".decrypt(...)")
            if attr in ("post", "put") and self._looks_like_http_client(node.func.value):
                self.hit("net-send", node, f".{attr}(...)")
                self.hit("network", node, f".{attr}(...)")
            if attr in ("sendall", "send", "sendto"):
                self.hit("net-send", node, f".{attr}(...)")
            if attr in ("write", "write_text", "write_bytes") and node.args:
                self._written_code(node, node.args[0])
        self.generic_visit(node)

    def _patch_value(self, value: ast.expr) -> ast.Name | None:
        """The local function that an assignment puts in place, seen through the wrappers
        the object model applies when the attribute is looked up or called
        (`classmethod(f)`, `staticmethod(f)`, `property(f)`, `types.MethodType(f, obj)`,
        `functools.wraps(orig)(f)`, `functools.partial(f, ...)`)."""
        for _ in range(3):
            if isinstance(value, ast.Name):
                return value
            if not isinstance(value, ast.Call) or not value.args:
                return None
            q = self.qualname(value.func) or ""
            if q in ("classmethod", "staticmethod", "property") and q not in self.defined:
                q = "builtins." + q
            wraps = isinstance(value.func, ast.Call) and (self.qualname(value.func.func) or "") in (
                "functools.wraps",
                "functools.update_wrapper",
            )
            if not (q in _PATCH_WRAPPERS or wraps):
                return None
            value = value.args[0]
        return None

    def _monkey_patch(self, owner: ast.expr, value: ast.Name, node: ast.AST) -> None:
        """`torch.hub.load_state_dict_from_url = _hook` (or `setattr(mod, name, _hook)`): a
        function of this module put in place of an imported module's: it runs when the
        user's own code calls the library, so it counts as running where the patch does."""
        root: ast.expr = owner
        while isinstance(root, ast.Attribute):
            root = root.value
        if (
            isinstance(root, ast.Name)
            and root.id in self.aliases
            and root.id not in ("self", "cls")
            and value.id in self.defined
        ):
            self.calls_from.setdefault(self.unit, set()).add(value.id)
            self.hit("monkey-patch", node, f"{ast.unparse(owner)[:60]} patched with {value.id}")
