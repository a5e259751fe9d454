"""Walk a pickle's opcodes and say which globals it would import and call. Never unpickles.

`pickletools.genops` parses the opcodes; a small symbolic machine follows the
stack and the memo so that names built at run time (STACK_GLOBAL fed from the
memo, from string opcodes, through DUP / GET ...) resolve to the module and
name the real unpickler would import. Nothing is ever imported, called or
constructed: values are plain literals or placeholders.

A stream that is truncated or broken on purpose (nullifAI put its payload
before a parse error, which runs before the error is seen) keeps everything
seen before the break, and says where and why it broke.

Over 600 lines for one concern: the opcode reader and the symbolic machine share the
stack, memo and stream position opcode by opcode; split, each half would be unreadable.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import io
import lzma
import pickletools
import re
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

# Literals bigger than this (tensor bytes inside a plain pickle) are skipped unread:
# only their length is needed to walk on.
MAX_LITERAL = 32 << 20
# A protocol-0 line (STRING, GLOBAL ...) longer than this is treated as a broken stream.
MAX_LINE = 1 << 20
# Containers are not kept whole (a pickled list of a billion floats must not live in memory):
# lists are dropped, dicts and tuples kept up to this many items (joblib states, dtype args).
MAX_KEPT = 256
# How deep pickles nested in bytes literals are followed.
MAX_NESTING = 4
# Functions that unpickle their bytes argument: a literal passed to one is walked too.
LOADS_FUNCTIONS = frozenset(
    {
        "pickle.loads",
        "pickle._loads",
        "_pickle.loads",
        "cPickle.loads",
        "dill.loads",
        "dill._dill.loads",
        "cloudpickle.loads",
        "joblib.load",
        "torch.load",
        "torch.serialization.load",
        "numpy.loads",
        "pickle.load",
        "_pickle.load",
    }
)
# Classes joblib follows with raw array bytes written straight into the stream.
JOBLIB_ARRAY_WRAPPERS = frozenset(
    {
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    }
)
_LITERAL_OPCODES = frozenset(
    {
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG",
        "LONG1",
        "LONG4",
        "FLOAT",
        "BINFLOAT",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
    }
)
_PUT_OPCODES = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
CALL_OPCODES = frozenset({"REDUCE", "BUILD", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST"})
PICKLE_PROTOCOLS = range(0, 6)
# torch's legacy (non-zip) files start with this number, pickled, then four more pickles.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_LEGACY_PICKLES = 5


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PickleGlobal:
    """One global the pickle imports (GLOBAL, STACK_GLOBAL, INST or an extension code)."""

    module: str
    name: str
    offset: int
    """Offset of the opcode that imports it, from the start of the stream."""
    opcode: str
    called: bool = False
    """True when REDUCE / NEWOBJ / OBJ / INST calls it, or BUILD runs its instance's state."""
    call_offset: int | None = None
    """Offset of the first opcode that calls it."""
    resolved: bool = True
    """False when the module or name was not a literal string (built at run time)."""
    written_as: str | None = None
    """The name as written, when Python 2 names were mapped (`__builtin__.eval`)."""

    @property
    def qualname(self) -> str:
        """`module.name`, as torch's weights_only allowlist spells it."""
        return f"{self.module}.{self.name}"


@dataclass(frozen=True, slots=True)
class CallSite:
    """One opcode that runs code: REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, OBJ, INST."""

    offset: int
    opcode: str
    target: str | None
    """The qualname of the callable (of the instance's class for BUILD); None when the callable
    is not a global (the result of another call, a persistent id ...)."""


@dataclass(frozen=True, slots=True)
class NestedPickle:
    """A bytes literal that is itself a pickle, walked in turn."""

    offset: int
    """Offset of the literal in the enclosing stream."""
    passed_to: str | None
    """The unpickling function it is handed to, when it is handed to one."""
    scan: PickleScan


@dataclass(frozen=True, slots=True)
class PickleScan:
    """What one pickle stream (PROTO ... STOP) would do."""

    start: int
    end: int | None
    """Offset just after STOP; None when the stream broke before STOP."""
    protocol: int
    opcodes: int
    globals: tuple[PickleGlobal, ...]
    calls: tuple[CallSite, ...]
    error: str | None = None
    """Why the walk stopped before STOP (truncated, unknown opcode, bad argument ...)."""
    error_offset: int | None = None
    anomalies: tuple[str, ...] = ()
    """Things a benign pickle does not do (stack underflow, BUILD on a global ...)."""
    nested: tuple[NestedPickle, ...] = ()
    skipped_literals: int = 0
    """Literals over MAX_LITERAL bytes skipped unread (tensor data)."""
    result_int: int | None = None
    """The unpickled value when it is a plain int (legacy torch writes counts this way)."""
    result_globals: tuple[str, ...] = ()
    """Qualnames of globals that appear directly in a tuple result (legacy torch storage
    records: `(key, location, torch.FloatStorage)`)."""

    @property
    def broken(self) -> bool:
        """The stream ends or breaks before STOP."""
        return self.error is not None

    @property
    def calls_before_break(self) -> bool:
        """A broken stream that already called something: a payload that runs, then fails."""
        return self.broken and bool(self.calls)

    def all_globals(self) -> Iterator[PickleGlobal]:
        """Every global, nested pickles included."""
        yield from self.globals
        for inner in self.nested:
            yield from inner.scan.all_globals()


# -- the symbolic machine -------------------------------------------------------------------


class _Mark:
    """MARK on the stack."""


@dataclass(eq=False, slots=True)
class _GlobalRef:
    index: int


@dataclass(eq=False, slots=True)
class _Object:
    """The result of a call: what the real unpickler would have constructed."""

    callee: object
    args: object
    state: object = None


@dataclass(eq=False, slots=True)
class _Opaque:
    what: str


@dataclass(eq=False, slots=True)
class _Dict:
    items: list[tuple[object, object]] = field(default_factory=list)

    def get(self, key: str) -> object:
        for k, v in self.items:
            if k == key:
                return v
        return None


class _VMError(Exception):
    """The real unpickler would fail here (stack underflow, missing memo key ...)."""


class _LargeLiteral(Exception):
    """A literal over MAX_LITERAL bytes was skipped; genops must restart after it."""


class _Reader:
    """The file genops reads: positions, bounded lines, large literals skipped unread."""

    def __init__(self, stream: BinaryIO, limit: int | None, max_literal: int) -> None:
        self._stream = stream
        self._limit = limit
        self._max_literal = max_literal
        self._end: int | None = None
        # Only a plain file or bytes in memory: seeking to the end of a decompressing stream
        # would decompress all of it, unbounded.
        plain = isinstance(stream, io.BytesIO | io.FileIO) or isinstance(
            getattr(stream, "raw", None), io.FileIO
        )
        try:
            if plain and stream.seekable():
                here = stream.tell()
                self._end = stream.seek(0, io.SEEK_END)
                stream.seek(here)
        except (OSError, ValueError):
            self._end = None

        self.tell = stream.tell  # genops asks for the position before every opcode
        # What genops reads from: the stream itself when nothing needs intercepting (an
        # in-memory pickle no bigger than the literal limit, no size limit): C-speed reads.
        self.source: object = self
        if (
            isinstance(stream, io.BytesIO)
            and limit is None
            and stream.getbuffer().nbytes <= max_literal
        ):
            self.source = stream

    def _check_limit(self) -> None:
        if self._limit is not None and self._stream.tell() > self._limit:
            raise ValueError(f"stream longer than the {self._limit}-byte limit")

    def read(self, n: int = -1) -> bytes:
        if 0 <= n <= self._max_literal:
            data = self._stream.read(n)
            if self._limit is not None:
                self._check_limit()
            return data
        if n < 0:
            raise ValueError("unbounded read")
        self.skip(n)
        raise _LargeLiteral(n)

    def skip(self, n: int) -> None:
        """Move forward n bytes without keeping them; ValueError if the stream is shorter."""
        here = self._stream.tell()
        if self._end is not None and here + n > self._end:
            self._stream.seek(self._end)
            raise ValueError(f"literal of {n} bytes runs past the end of the stream")
        if self._limit is not None and here + n > self._limit:
            raise ValueError(f"stream longer than the {self._limit}-byte limit")
        try:
            self._stream.seek(here + n)
        except (OSError, ValueError, EOFError) as err:
            raise ValueError(f"cannot skip {n} bytes: {err}") from err
        if self._stream.tell() != here + n:
            raise ValueError(f"literal of {n} bytes runs past the end of the stream")

    def read_raw(self, n: int) -> bytes:
        """Bytes that are not pickle opcodes (joblib's padding)."""
        return self._stream.read(n)

    def readline(self) -> bytes:
        data = self._stream.readline(MAX_LINE)
        self._check_limit()
        return data


def _read_int_line(stream: object) -> object:
    """INT as the C unpickler reads it: `strtol(s, 0)`, then `int(s, 0)` (`I0x10` is 16).

    pickletools reads base 10 only, so a hex or octal INT used to stop the walk before a
    payload that the real unpickler runs.
    """
    s = bytes(pickletools.read_stringnl(stream, decode=False, stripquotes=False))  # type: ignore[arg-type]
    if s == b"00":
        return False
    if s == b"01":
        return True
    try:
        return int(s, 0)
    except ValueError:
        match = _OCTAL.fullmatch(s)
        if match is None:
            raise
        return int(match.group(1) + match.group(2), 8)


def _read_long_line(stream: object) -> object:
    """LONG (protocol 0): base 0 like INT, an optional trailing `L`."""
    s = bytes(pickletools.read_stringnl(stream, decode=False, stripquotes=False))  # type: ignore[arg-type]
    if s[-1:] == b"L":
        s = s[:-1]
    return int(s, 0)


_OCTAL = re.compile(rb"\s*([+-]?)0([0-7]+)\s*")
_READERS: dict[str, object] = {"INT": _read_int_line, "LONG": _read_long_line}
_OPCODES: dict[int, tuple[pickletools.OpcodeInfo, object]] = {
    ord(op.code): (op, _READERS.get(op.name, op.arg.reader if op.arg is not None else None))
    for op in pickletools.opcodes
}


def _genops(data: object) -> Iterator[tuple[pickletools.OpcodeInfo, object, int]]:
    """pickletools.genops with the C unpickler's readings of INT and LONG."""
    read = data.read  # type: ignore[attr-defined]
    tell = data.tell  # type: ignore[attr-defined]
    while True:
        pos = tell()
        code = read(1)
        entry = _OPCODES.get(code[0]) if code else None
        if entry is None:
            if code == b"":
                raise ValueError("pickle exhausted before seeing STOP")
            raise ValueError(f"at position {pos}, opcode {code!r} unknown")
        opcode, reader = entry
        arg = None if reader is None else reader(data)  # type: ignore[operator]
        yield opcode, arg, pos
        if code == b".":
            break


def _small_tuple(items: list[object]) -> object:
    return tuple(items) if len(items) <= MAX_KEPT else _Opaque("tuple")


def _looks_like_pickle_bytes(data: bytes) -> bool:
    """Protocol 2+ header and a STOP at the end: worth walking as a nested pickle."""
    return len(data) >= 4 and data[0] == 0x80 and data[1] in PICKLE_PROTOCOLS and data[-1:] == b"."


def _split_pair(arg: object) -> tuple[str, str]:
    text = str(arg)
    # genops decodes these lines as latin-1; pickle decodes them as UTF-8.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("latin-1").decode("utf-8")
    module, _, name = text.partition(" ")
    return module, name


def _map_python2(module: str, name: str) -> tuple[str, str]:
    """pickle's fix_imports: Python 2 names (`__builtin__`, `copy_reg` ...) to Python 3."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    if module in _compat_pickle.IMPORT_MAPPING:
        return _compat_pickle.IMPORT_MAPPING[module], name
    return module, name


class _Walker:
    """One walk over one pickle stream."""

    def __init__(self, reader: _Reader, depth: int) -> None:
        self.reader = reader
        self.depth = depth
        self.start = reader.tell()
        self.stack: list[object] = []
        self.metastack: list[list[object]] = []
        self.memo: dict[int, object] = {}
        self.globals: list[PickleGlobal] = []
        self.calls: list[CallSite] = []
        self.anomalies: list[str] = []
        self.nested: list[NestedPickle] = []
        # id() of literals already walked; the literals stay alive on the stack or the memo
        self.nested_index: dict[int, int] = {}
        self.protocol = 0
        self.opcodes = 0
        self.skipped_literals = 0
        self.pending_skip: int = 0
        self.pending_inline_pickle = False

    # stack helpers -------------------------------------------------------------------------

    def push(self, value: object) -> None:
        self.stack.append(value)

    def pop(self) -> object:
        if not self.stack:
            raise _VMError("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list[object]:
        if not self.metastack:
            raise _VMError("no MARK on the stack")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def top(self) -> object:
        if not self.stack:
            raise _VMError("stack underflow")
        return self.stack[-1]

    # globals and calls ---------------------------------------------------------------------

    def add_global(
        self, module: str, name: str, offset: int, opcode: str, resolved: bool = True
    ) -> _GlobalRef:
        mapped = _map_python2(module, name) if resolved else (module, name)
        written = f"{module}.{name}" if mapped != (module, name) else None
        self.globals.append(
            PickleGlobal(
                module=mapped[0],
                name=mapped[1],
                offset=offset,
                opcode=opcode,
                resolved=resolved,
                written_as=written,
            )
        )
        return _GlobalRef(len(self.globals) - 1)

    def qualname(self, value: object) -> str | None:
        if isinstance(value, _GlobalRef):
            return self.globals[value.index].qualname
        return None

    def call(self, callee: object, offset: int, opcode: str) -> str | None:
        target = self.qualname(callee)
        self.calls.append(CallSite(offset=offset, opcode=opcode, target=target))
        if isinstance(callee, _GlobalRef):
            g = self.globals[callee.index]
            if not g.called:
                self.globals[callee.index] = PickleGlobal(
                    module=g.module,
                    name=g.name,
                    offset=g.offset,
                    opcode=g.opcode,
                    called=True,
                    call_offset=offset,
                    resolved=g.resolved,
                    written_as=g.written_as,
                )
        return target

    def maybe_nested(self, value: object, offset: int, passed_to: str | None) -> None:
        if not isinstance(value, bytes) or self.depth >= MAX_NESTING:
            return
        seen = self.nested_index.get(id(value))
        if seen is not None:  # walked when the literal was pushed: now we know who loads it
            if passed_to is not None:
                old = self.nested[seen]
                self.nested[seen] = NestedPickle(old.offset, passed_to, old.scan)
            return
        if _looks_like_pickle_bytes(value) or passed_to is not None:
            inner = scan_pickle(io.BytesIO(value), depth=self.depth + 1)
            self.nested_index[id(value)] = len(self.nested)
            self.nested.append(NestedPickle(offset=offset, passed_to=passed_to, scan=inner))

    # the opcodes ---------------------------------------------------------------------------

    def step(self, name: str, arg: object, pos: int) -> None:
        # The commonest opcodes first (a torch data.pkl is mostly these).
        if name in _LITERAL_OPCODES:
            self.stack.append(arg)
            return
        if name in _PUT_OPCODES:
            if not isinstance(arg, int) or arg < 0:
                raise _VMError("negative memo key")
            self.memo[arg] = self.top()
            return
        if name == "MARK":
            self.metastack.append(self.stack)
            self.stack = []
            return
        self.step_rare(name, arg, pos)

    def step_rare(self, name: str, arg: object, pos: int) -> None:
        push = self.push  # not self.stack.append: MARK and pop_mark swap the stack list
        if name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
            data = bytes(arg) if isinstance(arg, bytes | bytearray) else b""
            self.maybe_nested(data, pos, None)
            push(data)
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if name == "NEXT_BUFFER":
                push(_Opaque("out-of-band buffer"))
        elif name == "NONE":
            push(None)
        elif name == "NEWTRUE":
            push(True)
        elif name == "NEWFALSE":
            push(False)
        elif name == "EMPTY_LIST":
            push(_Opaque("list"))
        elif name == "EMPTY_TUPLE":
            push(())
        elif name == "EMPTY_DICT":
            push(_Dict())
        elif name == "EMPTY_SET":
            push(_Opaque("set"))
        elif name == "APPEND":
            self.pop()
            self.top()
        elif name == "APPENDS":
            self.pop_mark()
            self.top()
        elif name == "LIST":
            self.pop_mark()
            push(_Opaque("list"))
        elif name == "TUPLE":
            push(_small_tuple(self.pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            if len(self.stack) < n:
                raise _VMError("stack underflow")
            items = self.stack[-n:]
            del self.stack[-n:]
            push(_small_tuple(items))
        elif name == "DICT":
            items = self.pop_mark()
            push(_Dict(list(zip(items[::2], items[1::2], strict=False))[:MAX_KEPT]))
        elif name == "SETITEM":
            value = self.pop()
            key = self.pop()
            target = self.top()
            if isinstance(target, _Dict) and len(target.items) < MAX_KEPT:
                target.items.append((key, value))
        elif name == "SETITEMS":
            items = self.pop_mark()
            target = self.top()
            if isinstance(target, _Dict) and len(target.items) < MAX_KEPT:
                target.items.extend(zip(items[::2], items[1::2], strict=False))
                del target.items[MAX_KEPT:]
        elif name == "ADDITEMS":
            self.pop_mark()
            self.top()
        elif name == "FROZENSET":
            self.pop_mark()
            push(_Opaque("frozenset"))
        elif name == "POP":
            if self.stack:
                self.stack.pop()
            else:
                self.pop_mark()
        elif name == "DUP":
            push(self.top())
        elif name == "MARK":
            self.metastack.append(self.stack)
            self.stack = []
        elif name == "POP_MARK":
            self.pop_mark()
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            key = int(arg) if isinstance(arg, int) else -1
            if key not in self.memo:
                raise _VMError(f"memo key {key} read before it was written")
            push(self.memo[key])
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if not isinstance(arg, int) or arg < 0:
                raise _VMError("negative memo key")
            self.memo[arg] = self.top()
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self.top()
        elif name in ("EXT1", "EXT2", "EXT4"):
            push(self.add_global("copyreg", f"<extension code {arg}>", pos, name, resolved=False))
        elif name == "GLOBAL":
            module, gname = _split_pair(arg)
            push(self.add_global(module, gname, pos, name))
        elif name == "STACK_GLOBAL":
            gname_v = self.pop()
            module_v = self.pop()
            if isinstance(module_v, str) and isinstance(gname_v, str):
                push(self.add_global(module_v, gname_v, pos, name))
            else:
                push(
                    self.add_global(
                        module_v if isinstance(module_v, str) else "<computed>",
                        gname_v if isinstance(gname_v, str) else "<computed>",
                        pos,
                        name,
                        resolved=False,
                    )
                )
                self.anomalies.append(f"STACK_GLOBAL at {pos} takes a name built at run time")
        elif name == "REDUCE":
            args = self.pop()
            func = self.pop()
            target = self.call(func, pos, name)
            if target in LOADS_FUNCTIONS and isinstance(args, tuple):
                for a in args:
                    self.maybe_nested(a, pos, target)
            if (
                target == "_codecs.encode"
                and isinstance(args, tuple)
                and len(args) == 2
                and isinstance(args[0], str)
                and args[1] in ("latin1", "latin-1")
            ):
                # protocol 2 writes bytes this way: the result is a literal we can know
                data = args[0].encode("latin-1", "replace")
                self.maybe_nested(data, pos, None)
                push(data)
            else:
                push(_Object(func, args))
        elif name == "BUILD":
            state = self.pop()
            inst = self.top()
            if isinstance(inst, _GlobalRef):
                self.call(inst, pos, name)
                self.anomalies.append(
                    f"BUILD at {pos} sets attributes on the global {self.qualname(inst)} itself"
                )
            elif isinstance(inst, _Object):
                built = self.qualname(inst.callee)
                self.calls.append(CallSite(offset=pos, opcode=name, target=built))
                inst.state = state
                if built in JOBLIB_ARRAY_WRAPPERS:
                    self.after_joblib_wrapper(state)
            else:
                self.calls.append(CallSite(offset=pos, opcode=name, target=None))
        elif name == "NEWOBJ":
            args = self.pop()
            cls = self.pop()
            self.call(cls, pos, name)
            push(_Object(cls, args))
        elif name == "NEWOBJ_EX":
            kwargs = self.pop()
            args = self.pop()
            cls = self.pop()
            self.call(cls, pos, name)
            push(_Object(cls, (args, kwargs)))
        elif name == "OBJ":
            items = self.pop_mark()
            if not items:
                raise _VMError("OBJ without a class")
            self.call(items[0], pos, name)
            push(_Object(items[0], tuple(items[1:])))
        elif name == "INST":
            module, gname = _split_pair(arg)
            items = self.pop_mark()
            ref = self.add_global(module, gname, pos, name)
            self.call(ref, pos, name)
            push(_Object(ref, tuple(items)))
        elif name == "PERSID":
            push(_Opaque(f"persistent id {arg!r}"))
        elif name == "BINPERSID":
            self.pop()
            push(_Opaque("persistent id"))
        elif name == "PROTO":
            self.protocol = int(arg) if isinstance(arg, int) else 0
            if self.protocol not in PICKLE_PROTOCOLS:
                raise _VMError(f"unsupported pickle protocol {self.protocol}")
        elif name == "STOP":
            self.top()  # the real unpickler pops its result here: an empty stack is an error
        elif name == "FRAME":
            pass
        else:  # pragma: no cover - every pickletools opcode is handled above
            raise _VMError(f"unhandled opcode {name}")

    def after_joblib_wrapper(self, state: object) -> None:
        """joblib writes the array's bytes right after the wrapper's BUILD: skip or walk them."""
        size = _joblib_array_nbytes(state, self.qualname)
        if size is None:
            raise _VMError("joblib array wrapper with a state this scanner cannot size")
        if size < 0:
            self.pending_inline_pickle = True  # object arrays: a pickle follows inline
            return
        alignment = state.get("numpy_array_alignment_bytes") if isinstance(state, _Dict) else None
        if isinstance(alignment, int) and alignment > 0:
            padding = self.reader.read_raw(1)
            if len(padding) != 1 or padding[0] > alignment:
                raise _VMError("joblib array padding is malformed")
            size += padding[0]
        self.pending_skip = size


def _type_string_has_object(code: str) -> bool:
    """numpy's object type however it is spelled (`O`, `|O8`, `object`, `object_`, `i4,O`)."""
    return "O" in code or "object" in code.lower()


def _dtype_holds_objects(dtype: object, qualname: Callable[[object], str | None]) -> bool:
    """A pickled numpy.dtype(...) (+ BUILD state) that numpy would build with objects in it:
    its type string, a field or a subarray base, however deep."""
    todo: list[tuple[object, int]] = [(dtype, 0)]
    while todo:
        item, depth = todo.pop()
        if depth > 8:
            continue
        if isinstance(item, _Object):
            args = item.args if isinstance(item.args, tuple) else ()
            code = args[0] if args else None
            if isinstance(code, str) and _type_string_has_object(code):
                return True
            name = qualname(code)
            if name is not None and "object" in name.rsplit(".", 1)[-1].lower():
                return True  # numpy.dtype(numpy.object_)
            todo.append((item.state, depth + 1))
        elif isinstance(item, tuple):
            todo.extend((v, depth + 1) for v in item)
        elif isinstance(item, _Dict):
            todo.extend((v, depth + 1) for _, v in item.items)
    return False


def _dtype_itemsize(dtype: object, qualname: Callable[[object], str | None]) -> int | None:
    """Item size of a numpy dtype pickled as numpy.dtype(str, ...) + BUILD state; -1 = object.

    joblib reads an object array's data as a pickle when numpy's dtype holds objects,
    whatever item size the state claims: that decides, never the claimed size.
    """
    if not isinstance(dtype, _Object) or not isinstance(dtype.args, tuple) or not dtype.args:
        return None
    if _dtype_holds_objects(dtype, qualname):
        return -1
    code = dtype.args[0]
    if not isinstance(code, str):
        return None
    state = dtype.state
    if isinstance(state, tuple) and len(state) >= 6 and isinstance(state[5], int) and state[5] > 0:
        return state[5]
    digits = "".join(c for c in code if c.isdigit())
    letter = code.lstrip("|<>=")[:1]
    if not digits:
        return {"?": 1, "b": 1, "B": 1}.get(letter)
    n = int(digits)
    return n * 4 if letter == "U" else n


def _joblib_array_nbytes(state: object, qualname: Callable[[object], str | None]) -> int | None:
    """Bytes of array data after a NumpyArrayWrapper BUILD; -1 for object arrays."""
    if not isinstance(state, _Dict):
        return None
    shape = state.get("shape")
    itemsize = _dtype_itemsize(state.get("dtype"), qualname)
    if (
        itemsize is None
        or not isinstance(shape, tuple)
        or not all(isinstance(d, int) and d >= 0 for d in shape)
    ):
        return None
    if itemsize == -1:
        return -1
    count = 1
    for d in shape:
        count *= int(d)
    return count * itemsize


def _position(reader: _Reader) -> int:
    try:
        return reader.tell()
    except (OSError, ValueError):
        return -1


def _walk(walker: _Walker) -> PickleScan:
    reader = walker.reader
    error: str | None = None
    error_offset: int | None = None
    end: int | None = None
    vm_broken = False

    def fail(message: str, offset: int) -> None:
        nonlocal error, error_offset
        if error is None:
            error, error_offset = message, offset

    while True:
        # genops keeps no state but the stream position: after a skipped literal or joblib's
        # inline array bytes, a fresh generator takes up the walk where the bytes end.
        ops = _genops(reader.source)
        restart = False
        while True:
            try:
                opcode, arg, op_pos = next(ops)
            except StopIteration:  # pragma: no cover - genops stops only after STOP
                fail("pickle ends before STOP", reader.tell())
                break
            except _LargeLiteral:
                walker.skipped_literals += 1
                walker.opcodes += 1
                walker.stack.append(_Opaque("large literal"))
                restart = True
                break
            except (
                ValueError,
                EOFError,
                OverflowError,
                MemoryError,
                IndexError,
                KeyError,
                TypeError,
            ) as err:
                # the offset where reading stopped: at or just past the bad opcode
                fail(f"{type(err).__name__}: {err}", _position(reader))
                break
            except (OSError, zlib.error, lzma.LZMAError) as err:
                # a decompressing stream that turns corrupt mid-way: what came before stays
                fail(
                    f"the stream cannot be read on: {type(err).__name__}: {err}", _position(reader)
                )
                break
            walker.opcodes += 1
            offset = op_pos
            if not vm_broken:
                try:
                    walker.step(opcode.name, arg, offset)
                except (
                    _VMError,
                    ValueError,
                    TypeError,
                    KeyError,
                    IndexError,
                    OverflowError,
                    MemoryError,
                    RecursionError,
                ) as err:
                    # The real unpickler stops here; keep reading opcodes for their globals.
                    walker.anomalies.append(f"{err} at offset {offset}")
                    fail(str(err), offset)
                    vm_broken = True
            elif opcode.name in ("GLOBAL", "INST"):
                module, gname = _split_pair(arg)
                walker.add_global(module, gname, offset, opcode.name)
            if opcode.name == "STOP":
                end = reader.tell()
                break
            if walker.pending_skip or walker.pending_inline_pickle:
                restart = True
                break
        if not restart:
            break
        if walker.pending_skip:
            size, walker.pending_skip = walker.pending_skip, 0
            try:
                reader.skip(size)
            except ValueError as err:
                fail(str(err), reader.tell())
                break
        if walker.pending_inline_pickle:
            walker.pending_inline_pickle = False
            at = reader.tell()
            inner = _walk(_Walker(reader, walker.depth + 1))
            walker.nested.append(NestedPickle(offset=at, passed_to=None, scan=inner))
            if inner.broken:
                fail("joblib object array pickle is broken", at)
                break
    top = walker.stack[-1] if end is not None and walker.stack else None
    result_int = top if isinstance(top, int) and not isinstance(top, bool) else None
    result_globals = (
        tuple(q for q in (walker.qualname(v) for v in top) if q) if isinstance(top, tuple) else ()
    )
    return PickleScan(
        start=walker.start,
        end=end,
        protocol=walker.protocol,
        opcodes=walker.opcodes,
        globals=tuple(walker.globals),
        calls=tuple(walker.calls),
        error=error,
        error_offset=error_offset,
        anomalies=tuple(walker.anomalies),
        nested=tuple(walker.nested),
        skipped_literals=walker.skipped_literals,
        result_int=result_int,
        result_globals=result_globals,
    )


# -- entry points ---------------------------------------------------------------------------


def scan_pickle(
    stream: BinaryIO, *, limit: int | None = None, max_literal: int = MAX_LITERAL, depth: int = 0
) -> PickleScan:
    """Walk one pickle from the stream's position to its STOP (or to where it breaks).

    The stream is left just after STOP. `limit` bounds how far into the stream the walk may
    go (decompressed streams). Never raises for a malformed pickle: see `PickleScan.error`.
    """
    reader = _Reader(stream, limit, max_literal)
    with warnings.catch_warnings():
        # genops decodes protocol-0 strings with escape_decode, which warns on bad escapes
        # ('\c'): hostile input must not print warnings (or raise them under -W error).
        warnings.simplefilter("ignore")
        return _walk(_Walker(reader, depth))


def scan_pickle_bytes(data: bytes) -> PickleScan:
    """Walk a pickle held in memory."""
    return scan_pickle(io.BytesIO(data))


def scan_pickles(
    stream: BinaryIO, *, max_pickles: int = 16, limit: int | None = None
) -> tuple[PickleScan, ...]:
    """Walk consecutive pickles (torch's legacy format writes five in a row).

    A stream whose first pickle is torch's legacy magic number is read as torch's legacy
    loader reads it: four more pickles follow (protocol version, sys info, the object,
    the storage keys), whatever protocol they use, then raw storage bytes. Otherwise the
    walk goes on while what follows a STOP starts like a protocol 2+ pickle, and stops at
    the first broken one or at the end of the stream.
    """
    scans: list[PickleScan] = []
    while len(scans) < max_pickles:
        scan = scan_pickle(stream, limit=limit)
        scans.append(scan)
        if scan.broken:
            break
        legacy = scans[0].result_int == TORCH_LEGACY_MAGIC
        if legacy and len(scans) >= TORCH_LEGACY_PICKLES:
            break
        here = stream.tell()
        head = stream.read(2)
        stream.seek(here)
        if len(head) < 2:
            break
        if not legacy and (head[0] != 0x80 or head[1] not in PICKLE_PROTOCOLS):
            break
    return tuple(scans)
