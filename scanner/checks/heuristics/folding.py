"""Constant folding: string concatenation, `"".join`, `chr`, `bytes.fromhex`, slicing,
int arithmetic, `.decode()` / `.encode()`, local decoder wrappers and the library
decoders (base64 / zlib / lzma / bz2 / hex / rot13), bounded by a budget."""

from __future__ import annotations

import ast
import codecs

from scanner.checks.heuristics.names import _Names
from scanner.checks.heuristics.values import (
    MAX_FOLD,
    UNKNOWN,
    Value,
    _decode_bytes,
    _int_op,
    _Unknown,
)
from scanner.checks.heuristics.vocabulary import (
    _BUILTIN_FUNCTIONS,
    DECODER_NAMES,
)


class _Folder(_Names):
    """Folds constant expressions (the layer above name resolution)."""

    def fold(self, node: ast.AST | None, budget: int = 200) -> Value:
        """The constant value of an expression, or UNKNOWN."""
        if node is None or budget <= 0:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, (str, bytes)) or (isinstance(v, int) and not isinstance(v, bool)):
                return v
            return UNKNOWN
        if isinstance(node, ast.Name):
            value = self.consts.get(node.id, UNKNOWN)
            if isinstance(value, _Unknown) and node.id in self._fold_locals:
                return self.fold(self._fold_locals[node.id], budget - 5)
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            operand = self.fold(node.operand, budget - 1)
            if isinstance(operand, int):
                if isinstance(node.op, ast.USub):
                    return -operand
                return operand if isinstance(node.op, ast.UAdd) else ~operand
            return UNKNOWN
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                part = self.fold(
                    piece.value if isinstance(piece, ast.FormattedValue) else piece, budget - 1
                )
                if isinstance(part, (str, int)):
                    parts.append(str(part))
                else:
                    parts.append("{}")
            return "".join(parts)
        if isinstance(node, ast.BinOp):
            left = self.fold(node.left, budget - 1)
            right = self.fold(node.right, budget - 1)
            try:
                if (
                    isinstance(node.op, ast.Add)
                    and type(left) is type(right)
                    and isinstance(left, (str, bytes, int, list))
                ):
                    out = left + right  # type: ignore[operator]
                elif (
                    isinstance(node.op, ast.Mult)
                    and isinstance(right, int)
                    and isinstance(left, (str, bytes))
                    and len(left) * right <= MAX_FOLD
                ):
                    out = left * right
                elif (
                    isinstance(left, int)
                    and isinstance(right, int)
                    and abs(left) < 1 << 64
                    and abs(right) < 1 << 64
                ):
                    out = _int_op(node.op, left, right)
                else:
                    return UNKNOWN
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                return UNKNOWN
            if isinstance(out, (str, bytes, list)) and len(out) > MAX_FOLD:
                return UNKNOWN
            return out
        if isinstance(node, (ast.List, ast.Tuple)):
            if len(node.elts) > 100_000:
                return UNKNOWN
            items = [self.fold(e, budget - 1) for e in node.elts]
            return items  # type: ignore[return-value]
        if isinstance(node, ast.Subscript):
            base = self.fold(node.value, budget - 1)
            if isinstance(base, (str, bytes)) and isinstance(node.slice, ast.Slice):
                sl = node.slice
                lo = self.fold(sl.lower) if sl.lower else None
                hi = self.fold(sl.upper) if sl.upper else None
                st = self.fold(sl.step) if sl.step else None
                if all(x is None or isinstance(x, int) for x in (lo, hi, st)) and st != 0:
                    return base[slice(lo, hi, st)]  # type: ignore[arg-type]
            if isinstance(base, (str, list)) and not isinstance(node.slice, ast.Slice):
                index = self.fold(node.slice, budget - 1)
                if isinstance(index, int) and -len(base) <= index < len(base):
                    return base[index]  # type: ignore[return-value]
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self.fold_call(node, budget - 1)
        return UNKNOWN

    def fold_call(self, node: ast.Call, budget: int) -> Value:
        func = node.func
        if isinstance(func, ast.Name) and isinstance(self.assigned.get(func.id), ast.Attribute):
            # `_ = "".join` then `_([...])`
            bound = self.assigned[func.id]
            if (
                isinstance(bound, ast.Attribute)
                and bound.attr == "join"
                and isinstance(bound.value, ast.Constant)
            ):
                func = bound
        # "".join(...)
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1:
            sep = self.fold(func.value, budget)
            items = self._fold_iterable(node.args[0], budget)
            if (
                isinstance(sep, str)
                and isinstance(items, list)
                and all(isinstance(i, str) for i in items)
            ):
                return sep.join(items)  # type: ignore[arg-type]
            if (
                isinstance(sep, bytes)
                and isinstance(items, list)
                and all(isinstance(i, bytes) for i in items)
            ):
                return sep.join(items)  # type: ignore[arg-type]
            return UNKNOWN
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("decode", "encode")
            and self.qualname(func) not in DECODER_NAMES
            and self.qualname(func) != "codecs.encode"
        ):
            base = self.fold(func.value, budget)
            enc = self.fold(node.args[0], budget) if node.args else "utf-8"
            if func.attr == "decode" and isinstance(base, bytes):
                if isinstance(enc, str) and enc.lower() in ("hex", "base64", "zlib", "rot13"):
                    return _decode_bytes("codecs.decode", base, [enc])
                return _decode_text(base, enc)
            if func.attr == "encode" and isinstance(base, str):
                if isinstance(enc, str) and enc.lower() in ("rot13", "rot_13"):
                    return codecs.encode(base, "rot13")
                return base.encode("utf-8", "replace")
            return UNKNOWN
        if isinstance(func, ast.Attribute) and func.attr in (
            "replace",
            "strip",
            "lower",
            "upper",
            "lstrip",
            "rstrip",
        ):
            base = self.fold(func.value, budget)
            args = [self.fold(a, budget) for a in node.args]
            if isinstance(base, (str, bytes)) and all(type(a) is type(base) for a in args):
                try:
                    return getattr(base, func.attr)(*args)  # type: ignore[no-any-return]
                except (TypeError, ValueError):
                    return UNKNOWN
            return UNKNOWN
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("__str__", "__repr__")
            and not node.args
            and isinstance(func.value, ast.Name)
        ):
            # `oct.__str__()[-3]`: builtins spelled out to build names character by character
            builtin = func.value.id
            if builtin in ("copyright", "credits", "license"):
                return {
                    "copyright": "Copyright (c) 2001-2023 Python Software Foundation.",
                    "credits": "    Thanks to CWI, CNRI, BeOpen.com, Zope Corporation",
                    "license": "Type license() to see the full license text",
                }[builtin]
            if builtin in _BUILTIN_FUNCTIONS and builtin not in self.aliases:
                return f"<built-in function {builtin}>"
            return UNKNOWN
        name = self.qualname(func)
        if name is None:
            return UNKNOWN
        if name == "builtins.chr" and node.args:
            v = self.fold(node.args[0], budget)
            if isinstance(v, int) and 0 <= v < 0x110000:
                return chr(v)
            return UNKNOWN
        if name in ("builtins.bytes", "builtins.bytearray") and node.args:
            v = self.fold(node.args[0], budget)
            if isinstance(v, list) and all(isinstance(i, int) and 0 <= i < 256 for i in v):
                return bytes(v)  # type: ignore[arg-type]
            if isinstance(v, str) and len(node.args) > 1:
                return v.encode("utf-8", "replace")
            if isinstance(v, bytes):
                return v
            return UNKNOWN
        if name == "builtins.str" and node.args:
            v = self.fold(node.args[0], budget)
            return v if isinstance(v, str) else UNKNOWN
        if name in self.decoder_wrappers and len(node.args) == 1:
            data = self.fold(node.args[0], budget)
            if isinstance(data, (str, bytes)):
                wrapper = self.decoder_wrappers[name]
                if budget > 20:
                    # evaluate the wrapper's body with its parameter bound to the literal
                    param = wrapper.param
                    saved = (self.consts.get(param, UNKNOWN), self._fold_locals)
                    self.consts[param] = data
                    self._fold_locals = {k: v for k, v in wrapper.local.items() if k != param}
                    try:
                        out = self.fold(wrapper.returns, budget - 10)
                    finally:
                        self.consts[param] = saved[0]
                        self._fold_locals = saved[1]
                    if isinstance(out, (str, bytes)):
                        return out
                out = _decode_bytes(wrapper.decoder, data, [])
                return out.decode("utf-8", "replace") if isinstance(out, bytes) else out
            return UNKNOWN
        if name in DECODER_NAMES and name != "marshal.loads" and node.args:
            data = self.fold(node.args[0], budget)
            extra: list[object] = [self.fold(a, budget) for a in node.args[1:]]
            for kw in node.keywords:
                if kw.arg == "encoding":
                    extra.insert(0, self.fold(kw.value, budget))
            if isinstance(data, (str, bytes)):
                return _decode_bytes(name, data, extra)
        return UNKNOWN

    def _fold_iterable(self, node: ast.AST, budget: int) -> Value:
        if isinstance(node, ast.Call):
            callee = self.qualname(node.func)
            # map(chr, [...]) / map(getattr(__builtins__, "chr"), [...])
            if callee == "builtins.map" and len(node.args) == 2:
                fn = self.qualname(node.args[0])
                items = self.fold(node.args[1], budget)
                if (
                    fn == "builtins.chr"
                    and isinstance(items, list)
                    and all(isinstance(i, int) and 0 <= i < 0x110000 for i in items)
                ):
                    self.hit("obfuscated-names", node, "map(chr, [...])")
                    return [chr(i) for i in items]  # type: ignore[arg-type]
                return UNKNOWN
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
            gen = node.generators[0]
            items = self.fold(gen.iter, budget)
            elt = node.elt
            if (
                isinstance(items, list)
                and isinstance(gen.target, ast.Name)
                and not gen.ifs
                and isinstance(elt, ast.Call)
                and self.qualname(elt.func) == "builtins.chr"
            ):
                arg = elt.args[0] if elt.args else None
                if (
                    isinstance(arg, ast.Name)
                    and arg.id == gen.target.id
                    and all(isinstance(i, int) and 0 <= i < 0x110000 for i in items)
                ):
                    self.hit("obfuscated-names", node, "chr() comprehension")
                    return [chr(i) for i in items]  # type: ignore[arg-type]
            return UNKNOWN
        return self.fold(node, budget)


def _decode_text(data: bytes, encoding: object) -> str:
    """`data.decode(encoding)` for any text encoding Python knows (code hidden as EBCDIC
    with `cp1026`, or as UTF-16, decodes like UTF-8 does); UTF-8 for anything else."""
    if isinstance(encoding, str):
        try:
            return data.decode(encoding, "replace")
        except (LookupError, TypeError, ValueError):
            pass
    return data.decode("utf-8", "replace")
