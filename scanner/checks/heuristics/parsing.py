"""Parsing Python source without running it, including a tolerant parse that rewrites
Python 2 spellings line by line."""

from __future__ import annotations

import ast
import re
import warnings


def parses(source: bytes | str) -> bool:
    """Whether Python source parses at all (Python 2 code does not)."""
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    try:
        _parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _parse(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


MAX_REPAIRS = 64
"""Lines a tolerant parse may rewrite before it gives up on a file."""


MAX_REPAIR_SOURCE = 1 << 20

_PY2_PRINT = re.compile(r"^(\s*)print\b\s*(?!\s*\()(.*?)\s*$")
_PY2_EXEC = re.compile(r"^(\s*)exec\b\s+(?!\s*\()(.*?)\s*$")
_PY2_EXCEPT = re.compile(r"^(\s*except\s+[\w.()\s,]+?)\s*,\s*(\w+)\s*:")
_PY2_RAISE = re.compile(r"^(\s*raise\s+[\w.]+(?:\([^)]*\))?)\s*,.*$")
_PY2_OCTAL = re.compile(r"(?<![\w.])0(\d+)(?![\w.])")
_PY2_BACKTICK = re.compile(r"`([^`\n]*)`")


def _repair_line(line: str) -> str:
    """A Python 2 spelling of a line rewritten in Python 3 (same meaning, same line)."""
    for rx, repl in (
        (_PY2_EXEC, r"\1exec(\2)"),
        (_PY2_PRINT, r"\1print(\2)"),
        (_PY2_EXCEPT, r"\1 as \2:"),
        (_PY2_RAISE, r"\1"),
    ):
        fixed = rx.sub(repl, line, count=1)
        if fixed != line:
            return fixed
    fixed = _PY2_OCTAL.sub(r"0o\1", line)
    fixed = _PY2_BACKTICK.sub(r"repr(\1)", fixed)
    return fixed.replace("<>", "!=").replace("ur'", "r'").replace('ur"', 'r"')


def parse_tolerant(source: str) -> tuple[ast.Module, int]:
    """Parse source that Python 3 refuses, as far as it can be read: Python 2 spellings
    are rewritten line by line (`print x`, `exec code`, `except E, e`, `0777`), and a line
    that still does not parse becomes `pass` at its indentation. Malware is often
    Python 2 or carelessly written; a file that does not parse must not hide the rest of
    its code. Raises SyntaxError when the file cannot be recovered. Returns the tree and
    how many lines were rewritten."""
    if len(source) > MAX_REPAIR_SOURCE:
        raise SyntaxError("too large to repair")
    lines = source.replace("\x00", "").expandtabs(8).split("\n")
    touched: dict[int, int] = {}
    for _ in range(MAX_REPAIRS):
        tree, err = _try_parse("\n".join(lines))
        if tree is not None:
            return tree, len(touched)
        if err is not None:
            lineno = err.lineno
            if lineno is None or not 1 <= lineno <= len(lines):
                raise err
            i = lineno - 1
            tries = touched.get(i, 0)
            touched[i] = tries + 1
            line = lines[i]
            indent = line[: len(line) - len(line.lstrip())]
            if tries == 0 and (fixed := _repair_line(line)) != line:
                lines[i] = fixed
            elif tries <= 1 and line.strip() not in ("", "pass"):
                if isinstance(err, IndentationError) and i > 0:
                    prev = next((p for p in reversed(lines[:i]) if p.strip()), "")
                    indent = prev[: len(prev) - len(prev.lstrip())]
                    if prev.rstrip().endswith(":"):
                        indent += "    "
                lines[i] = indent + "pass"
            elif tries <= 2:
                lines[i] = ""
            else:
                raise err
    raise SyntaxError("too many lines to repair")


def _try_parse(text: str) -> tuple[ast.Module | None, SyntaxError | None]:
    try:
        return _parse(text), None
    except SyntaxError as err:
        return None, err
