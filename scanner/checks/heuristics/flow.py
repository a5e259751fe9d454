"""Data flow within a module: which decoders / network reads feed an expression, which
functions are decoder wrappers, which files are written and which processes started
(and through one level of calls, by parameter), and which units run at import time."""

from __future__ import annotations

import ast
import posixpath
import re

from scanner.checks.heuristics.folding import _Folder
from scanner.checks.heuristics.values import (
    _DecoderWrapper,
    _first_param,
)
from scanner.checks.heuristics.vocabulary import (
    _DOWNLOAD_TOOL,
    DECODER_NAMES,
    call_signals,
)


class _Flow(_Folder):
    """Follows values between names and functions (the layer above folding)."""

    def sources_of(self, node: ast.AST, names: set[str] | None = None) -> set[str]:
        """Which decoders / network reads feed an expression (through simple names)."""
        names = set() if names is None else names
        found: set[str] = set()
        stack = [node]
        seen = 0
        while stack and seen < 2000:
            seen += 1
            cur = stack.pop()
            if isinstance(cur, ast.Call):
                q = self.qualname(cur.func)
                if q is not None:
                    sigs = call_signals(q)
                    if "decode" in sigs or q in DECODER_NAMES or q in self.decoder_wrappers:
                        found.add("decode")
                    if "network" in sigs:
                        found.add("network")
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "decrypt",
                    "decompress",
                    "b64decode",
                    "fromhex",
                    "unhexlify",
                ):
                    found.add("decode")
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "read",
                    "text",
                    "content",
                ):
                    found.add("read")
                if q == "builtins.chr" or (
                    q == "builtins.map"
                    and cur.args
                    and self.qualname(cur.args[0]) == "builtins.chr"
                ):
                    found.add("decode")  # code spelled out one character code at a time
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "recv",
                    "recvfrom",
                    "recv_into",
                ):
                    found.add("network")
            elif isinstance(cur, ast.Attribute) and cur.attr in ("text", "content"):
                found.add("network-maybe")
            elif isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.BitXor):
                found.add("decode")  # an XOR cipher over characters or bytes
            elif isinstance(cur, (ast.ListComp, ast.GeneratorExp)) and any(
                isinstance(g.iter, ast.Constant)
                and isinstance(g.iter.value, str)
                and len(g.iter.value) > 40
                for g in cur.generators
            ):
                found.add("decode")  # a substitution cipher, one character at a time
            elif isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in names:
                names.add(cur.id)
                found |= self.sources_of(self.assigned[cur.id], names)
            stack.extend(ast.iter_child_nodes(cur))
        return found

    def _wrapped_decoder(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, local: dict[str, ast.AST]
    ) -> _DecoderWrapper | None:
        """The decoder a small function applies to its first parameter, if that is all
        it does (called while the function's own assignments, `local`, are still known)."""
        param = _first_param(node)
        if len(node.body) > 8 or param is None:
            return None
        returns = [n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Return)]
        if len(returns) != 1 or returns[0].value is None:
            return None
        returned = returns[0].value
        found: str | None = None
        stack: list[ast.AST] = [returned]
        names: set[str] = set()
        reads_param = False
        while stack:
            cur = stack.pop()
            if isinstance(cur, ast.Call):
                q = self.qualname(cur.func)
                if q in DECODER_NAMES and q != "marshal.loads":
                    found = found or q
                elif q in self.decoder_wrappers:
                    found = found or self.decoder_wrappers[q].decoder
            if isinstance(cur, ast.Name):
                if cur.id == param:
                    reads_param = True
                elif cur.id in self.assigned and cur.id not in names:
                    names.add(cur.id)
                    stack.append(self.assigned[cur.id])
            stack.extend(ast.iter_child_nodes(cur))
        if found is None or not reads_param:
            return None
        return _DecoderWrapper(found, param, returned, local)

    def _param_index(self, text: str) -> int | None:
        """The index of the current function's parameter that `text` names, if any."""
        if self.params:
            _, params = self.params[-1]
            for i, p in enumerate(params):
                if re.search(rf"(?<![\w.]){re.escape(p)}(?!\w)", text):
                    return i
        return None

    def _note_written(self, path: ast.expr) -> None:
        text = ast.unparse(path)
        i = self._param_index(text) if isinstance(path, ast.Name) else None
        if i is not None:
            self.writes_param.setdefault(self.params[-1][0], set()).add(i)
        if len(text) < 200:
            self.written.append((self.unit, text))
        value = self.fold(path)
        if isinstance(value, str) and len(value) >= 5 and "{}" not in value:
            self.written.append(("", posixpath.basename(value.replace("\\", "/")) or value))

    def _note_spawn(self, node: ast.AST, command: str) -> None:
        self.spawned.append((self.unit, node, command))
        i = self._param_index(command)
        if i is not None:
            self.spawns_param.setdefault(self.params[-1][0], set()).add(i)

    def finish(self) -> None:
        """After the walk: a child process started on a file this code wrote (a name in
        the same function, a module-level name, or the same literal file name)."""
        for unit, call, callee in self.call_sites:
            for i, arg in enumerate(call.args):
                text = (
                    ast.unparse(arg)
                    if i in self.writes_param.get(callee, ())
                    or i in self.spawns_param.get(callee, ())
                    else ""
                )
                if len(text) > 200:
                    continue
                if i in self.writes_param.get(callee, ()):
                    self.written.append((unit, text))
                if i in self.spawns_param.get(callee, ()):
                    if (
                        isinstance(arg, ast.Call)
                        and isinstance(arg.func, (ast.Name, ast.Attribute))
                        and (arg.func.id if isinstance(arg.func, ast.Name) else arg.func.attr)
                        in self.returns_written
                    ):
                        self.written.append((unit, text))
                    self.spawned.append((unit, call, text))
        for unit, node, command in self.spawned:
            if unit in self.download_units and not _DOWNLOAD_TOOL.search(command):
                # `curl -L url -O` then `os.startfile(name)`: runs what it fetched
                self.unit_stack.append(unit)
                self.hit("run-written", node, f"runs {command[:60]} after a download")
                self.unit_stack.pop()
                continue
            for wunit, key in self.written:
                if len(key) < 3 or key not in command:
                    continue
                if wunit == "":  # a literal file name
                    same = True
                elif re.fullmatch(r"[A-Za-z_]\w*", key):
                    same = (wunit == unit or key in self.module_names) and re.search(
                        rf"(?<![\w.]){re.escape(key)}(?!\w)", command
                    ) is not None
                else:
                    same = True  # the same path expression, spelled out
                if same:
                    self.unit_stack.append(unit)
                    self.hit("run-written", node, f"runs {key[:80]}, which it wrote")
                    self.unit_stack.pop()
                    break

    def _fed_by_decoder(self, node: ast.AST) -> bool:
        """Whether a name in the expression was assigned from a decoder call (strictly:
        base64 / hex / zlib / a local wrapper of them, not `bytes.decode`)."""
        names: set[str] = set()
        stack = [node]
        while stack and len(names) < 32:
            cur = stack.pop()
            if isinstance(cur, ast.Call) and self._decoder_depth(cur) > 0:
                return True
            if isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.BitXor):
                return True  # an XOR cipher
            if isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in names:
                names.add(cur.id)
                stack.append(self.assigned[cur.id])
            stack.extend(ast.iter_child_nodes(cur))
        return False

    def _arg_text(self, node: ast.AST) -> str:
        """Source of an argument, with simple names replaced by what they were assigned."""
        text = ast.unparse(node)
        if len(text) > 2000:
            return ""
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
        for name in names[:8]:
            value = self.assigned.get(name)
            if value is not None:
                sub = ast.unparse(value)
                if len(sub) < 2000:
                    text += " " + sub
        return text

    def _decoder_depth(self, node: ast.AST) -> int:
        depth = 0
        cur: ast.AST | None = node
        while isinstance(cur, ast.Call) and depth < 100:
            q = self.qualname(cur.func)
            attr = cur.func.attr if isinstance(cur.func, ast.Attribute) else ""
            if (q is not None and (q in DECODER_NAMES or q in self.decoder_wrappers)) or attr in (
                "decrypt",
                "decompress",
                "b64decode",
            ):
                depth += 1
                cur = cur.args[0] if cur.args else None
            elif attr in ("decode", "encode") or (q or "").startswith("builtins."):
                cur = (
                    cur.func.value
                    if isinstance(cur.func, ast.Attribute) and attr in ("decode", "encode")
                    else (cur.args[0] if cur.args else None)
                )
            else:
                break
        return depth

    def import_time_units(self, setup_like: bool) -> set[str]:
        """Units reachable from module-level code (and, in setup.py, from install hooks)."""
        start = {self.unit_stack[0]}
        start |= {self.defined[n] for n in self.entry_names if n in self.defined}
        if "__main__" in self.entry_names:
            start.add(self.unit_prefix + "<main>")  # run as a script by another file
        if setup_like:
            start.add(self.unit_prefix + "<main>")  # setup.py runs as __main__
            start |= {
                u
                for u in self.defined.values()
                if any(u.startswith(h + ".") for h in self.hook_units)
            }
        seen = set(start)
        todo = list(start)
        while todo:
            unit = todo.pop()
            for callee in self.calls_from.get(unit, ()):
                target = (
                    self.defined.get(callee)
                    or self.defined.get(f"{callee}.__init__")
                    or self.defined.get(f"{callee}.run")
                )
                if target is not None and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen
