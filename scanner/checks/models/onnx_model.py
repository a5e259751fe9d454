"""ONNX models: external-data paths and operator domains, read with a minimal protobuf walker.

An ONNX file is a protobuf `ModelProto` (onnx/onnx.proto). Two things in it reach past the
file: a tensor stored outside it (`data_location = EXTERNAL`, `external_data` entry
`location`), which loaders open relative to the model's directory, so `../../etc/passwd`
or an absolute path reads (and with some tools writes) files elsewhere (CVE-2024-27318,
CVE-2024-5187); and a node in an operator domain neither ONNX nor the runtime defines,
which only runs once a custom-op library (native code) is registered for it.

Only the fields on the way to those are decoded: model -> graph (and functions, and
subgraphs in node attributes) -> nodes and initializers. Everything else, tensor bytes
above all, is skipped by length. The file is memory-mapped, so a 2 GB model with inline
weights costs no more memory than the pages the walk touches.
"""

from __future__ import annotations

import mmap
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

MAX_DEPTH = 32
MAX_FINDINGS = 64
# Domains ONNX and onnxruntime define themselves ("" is ai.onnx).
STANDARD_DOMAINS = frozenset(
    {
        "",
        "ai.onnx",
        "ai.onnx.ml",
        "ai.onnx.training",
        "ai.onnx.preview.training",
        "com.microsoft",
        "com.microsoft.nchwc",
        "com.microsoft.experimental",
        "com.ms.internal.nhwc",
        "org.pytorch.aten",
        "com.microsoft.dml",
    }
)
# field numbers in onnx.proto
MODEL_GRAPH, MODEL_FUNCTIONS, MODEL_OPSET = 7, 25, 8
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_SPARSE_INITIALIZER = 1, 5, 15
NODE_OP_TYPE, NODE_DOMAIN, NODE_ATTRIBUTE = 4, 7, 5
ATTR_T, ATTR_G, ATTR_TENSORS, ATTR_GRAPHS, ATTR_SPARSE, ATTR_SPARSES = 5, 6, 10, 11, 22, 23
TENSOR_NAME, TENSOR_EXTERNAL, TENSOR_DATA_LOCATION = 8, 13, 14
SPARSE_VALUES, SPARSE_INDICES = 1, 2
FUNCTION_NODE, FUNCTION_DOMAIN, FUNCTION_NAME = 7, 10, 1
ENTRY_KEY, ENTRY_VALUE = 1, 2
OPSET_DOMAIN = 1


class OnnxError(ValueError):
    """Not a well-formed protobuf where a ModelProto was expected."""


@dataclass(frozen=True, slots=True)
class OnnxInfo:
    external: tuple[tuple[str, str], ...]
    """(tensor name, location) of every tensor stored outside the file."""
    custom_ops: tuple[tuple[str, str], ...]
    """(domain, op_type) of nodes in domains neither ONNX, onnxruntime nor a local
    function of the model defines."""
    nodes: int


def _varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise OnnxError("truncated or oversized varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: mmap.mmap | bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, value or payload start, payload end) of one message."""
    out: list[tuple[int, int, int, int]] = []
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise OnnxError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            out.append((number, 0, value, pos))
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise OnnxError("a length-delimited field runs past its message")
            out.append((number, 2, pos, pos + length))
            pos += length
        elif wire == 5:
            pos += 4
        else:
            raise OnnxError(f"unsupported wire type {wire}")
        if pos > end:
            raise OnnxError("a field runs past its message")
    return out


def _text(buf: mmap.mmap | bytes, start: int, end: int) -> str:
    return bytes(buf[start : min(end, start + 4096)]).decode("utf-8", errors="replace")


class _Walk:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.external: list[tuple[str, str]] = []
        self.domains_used: list[tuple[str, str]] = []
        self.function_domains: set[str] = set()
        self.nodes = 0

    def model(self, start: int, end: int) -> None:
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if number == MODEL_GRAPH:
                self.graph(a, b, 0)
            elif number == MODEL_FUNCTIONS:
                self.function(a, b)

    def function(self, start: int, end: int) -> None:
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if number == FUNCTION_DOMAIN:
                self.function_domains.add(_text(self.buf, a, b))
            elif number == FUNCTION_NODE:
                self.node(a, b, 1)

    def graph(self, start: int, end: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise OnnxError("subgraphs nested too deep")
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if number == GRAPH_NODE:
                self.node(a, b, depth)
            elif number == GRAPH_INITIALIZER:
                self.tensor(a, b)
            elif number == GRAPH_SPARSE_INITIALIZER:
                self.sparse(a, b)

    def node(self, start: int, end: int, depth: int) -> None:
        self.nodes += 1
        domain, op_type = "", ""
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if number == NODE_DOMAIN:
                domain = _text(self.buf, a, b)
            elif number == NODE_OP_TYPE:
                op_type = _text(self.buf, a, b)
            elif number == NODE_ATTRIBUTE:
                self.attribute(a, b, depth)
        if domain not in STANDARD_DOMAINS and len(self.domains_used) < MAX_FINDINGS:
            self.domains_used.append((domain, op_type))

    def attribute(self, start: int, end: int, depth: int) -> None:
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if number in (ATTR_G, ATTR_GRAPHS):
                self.graph(a, b, depth + 1)
            elif number in (ATTR_T, ATTR_TENSORS):
                self.tensor(a, b)
            elif number in (ATTR_SPARSE, ATTR_SPARSES):
                self.sparse(a, b)

    def sparse(self, start: int, end: int) -> None:
        for number, wire, a, b in _fields(self.buf, start, end):
            if wire == 2 and number in (SPARSE_VALUES, SPARSE_INDICES):
                self.tensor(a, b)

    def tensor(self, start: int, end: int) -> None:
        name, location, external = "", None, False
        for number, wire, a, b in _fields(self.buf, start, end):
            if number == TENSOR_NAME and wire == 2:
                name = _text(self.buf, a, b)
            elif number == TENSOR_DATA_LOCATION and wire == 0:
                external = a == 1
            elif number == TENSOR_EXTERNAL and wire == 2:
                key = value = ""
                for n2, w2, a2, b2 in _fields(self.buf, a, b):
                    if w2 == 2 and n2 == ENTRY_KEY:
                        key = _text(self.buf, a2, b2)
                    elif w2 == 2 and n2 == ENTRY_VALUE:
                        value = _text(self.buf, a2, b2)
                if key == "location":
                    location = value
        if external and location is not None and len(self.external) < MAX_FINDINGS:
            self.external.append((name, location))


def read_onnx(path: Path) -> OnnxInfo:
    """Walk an ONNX model's graph; raises OnnxError when it is not a ModelProto."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            raise OnnxError("empty file")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            walk = _Walk(buf)
            walk.model(0, size)
    custom = tuple((d, op) for d, op in walk.domains_used if d not in walk.function_domains)
    return OnnxInfo(tuple(walk.external), custom, walk.nodes)


def looks_like_onnx(head: bytes) -> bool:
    """A ModelProto starts with ir_version (field 1, varint) in every exporter's output."""
    return len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= 20


def escaping_location(location: str) -> str | None:
    """Why an external-data location leaves the model's directory, or None."""
    text = location.replace("\\", "/")
    if text.startswith("/") or re.match(r"[A-Za-z]:", text):
        return "is an absolute path"
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../"):
        return "climbs out of the model's directory"
    if "\x00" in text:
        return "holds a NUL byte"
    return None
