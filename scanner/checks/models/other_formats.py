"""Model formats that hold no pickle: GGUF, ONNX, Keras HDF5 (and Keras configs in general).

Each is read without loading the model: GGUF's metadata (gguf.py), ONNX's graph
(onnx_model.py), and the JSON model config a Keras .h5 keeps in its `model_config`
attribute. The config is found by a bounded scan of the file's bytes, not with an HDF5
library: the attribute is one contiguous UTF-8 string (h5py writes it before the weights,
in the root group's attributes or the global heap), so `{"class_name": ...` is searched
for and decoded with a JSON decoder, at most KERAS_CONFIG_MAX bytes of it. An .h5 whose
config cannot be found this way in its first HDF5_SCAN_BYTES is reported as not scanned.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator
from pathlib import Path

from scanner.checks.models.gguf import GgufError, read_gguf, template_problems
from scanner.checks.models.onnx_model import OnnxError, escaping_location, read_onnx
from scanner.checks.models.results import ContainerIssue, ModelScan

KERAS_CONFIG_MAX = 64 << 20
HDF5_SCAN_BYTES = 256 << 20
KERAS_CONFIG_START = b'{"class_name"'
# Layers that read files or load whole other models when a config is deserialised.
KERAS_FILE_LAYERS = frozenset({"TFSMLayer"})
KERAS_VOCAB_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})


def scan_gguf(path: Path, size: int) -> ModelScan:
    try:
        with path.open("rb") as fh:
            info = read_gguf(fh, size)
    except GgufError as err:
        return ModelScan(path, "gguf", (), (ContainerIssue("corrupt", f"GGUF: {err}"),))
    issues = [
        ContainerIssue(
            "template-injection",
            f"the chat template `{key}` {problem.split(':', 1)[0]}: front-ends that render it "
            "outside a sandbox run its code (CVE-2024-34359)",
            evidence=problem.split(": ", 1)[-1],
        )
        for key, template in info.templates
        for problem in template_problems(template)[:1]
    ]
    return ModelScan(path, "gguf", (), tuple(issues))


def scan_onnx(path: Path) -> ModelScan:
    try:
        info = read_onnx(path)
    except (OnnxError, OSError, ValueError) as err:
        return ModelScan(path, "onnx", (), (ContainerIssue("corrupt", f"ONNX: {err}"),))
    issues: list[ContainerIssue] = []
    for name, location in info.external:
        why = escaping_location(location)
        if why is not None:
            issues.append(
                ContainerIssue(
                    "external-data",
                    f"tensor {name!r} keeps its data at {location!r}, which {why}: "
                    "loading the model reads that file",
                    evidence=location[:200],
                )
            )
    domains = sorted({d for d, _ in info.custom_ops})
    if domains:
        ops = ", ".join(sorted({f"{d}::{op}" for d, op in info.custom_ops})[:6])
        issues.append(
            ContainerIssue(
                "custom-op",
                f"nodes in operator domain(s) {', '.join(domains[:4])} that neither ONNX nor "
                "onnxruntime defines: they run only with a custom-op library (native code)",
                evidence=ops,
            )
        )
    return ModelScan(path, "onnx", (), tuple(issues))


def hdf5_keras_configs(path: Path) -> tuple[list[object], bool]:
    """Keras JSON configs found in an HDF5 file, and whether the whole file was searched."""
    configs: list[object] = []
    decoder = json.JSONDecoder()
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            return [], True
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            end = min(size, HDF5_SCAN_BYTES)
            at = buf.find(KERAS_CONFIG_START, 0, end)
            while at != -1 and len(configs) < 8:
                stop = min(size, at + KERAS_CONFIG_MAX)
                nul = buf.find(b"\x00", at, stop)
                text = bytes(buf[at : nul if nul != -1 else stop]).decode("utf-8", "replace")
                try:
                    config, used = decoder.raw_decode(text)
                except (ValueError, RecursionError):
                    used = len(KERAS_CONFIG_START)
                else:
                    configs.append(config)
                at = buf.find(KERAS_CONFIG_START, at + max(used, 1), end)
    return configs, size <= HDF5_SCAN_BYTES


def scan_hdf5(path: Path) -> ModelScan:
    configs, whole = hdf5_keras_configs(path)
    issues: list[ContainerIssue] = []
    for config in configs:
        issues.extend(keras_config_issues(config, None))
    if not configs and not whole:
        issues.append(
            ContainerIssue(
                "unscanned",
                f"HDF5 file: no Keras model config in its first {HDF5_SCAN_BYTES >> 20} MiB, "
                "the rest was not searched (Lambda layers carry marshalled bytecode)",
            )
        )
    return ModelScan(path, "hdf5", (), tuple(issues))


KERAS_MODULE_PREFIXES = (
    "keras",
    "keras_hub",
    "keras_nlp",
    "keras_cv",
    "tf_keras",
    "tensorflow.keras",
)


def _keras_nodes(config: object) -> Iterator[dict[str, object]]:
    """Every dict in a Keras config tree, without recursion (configs nest deeply)."""
    todo: list[object] = [config]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            yield node
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)


def keras_config_issues(config: object, member: str | None) -> list[ContainerIssue]:
    """Lambda layers and classes outside Keras in a Keras model config (.keras or .h5)."""
    issues: list[ContainerIssue] = []
    for node in _keras_nodes(config):
        class_name = node.get("class_name")
        module = node.get("module")
        if class_name == "Lambda" or class_name == "__lambda__":
            function = node.get("config")
            issues.append(
                ContainerIssue(
                    "keras-lambda",
                    "Keras Lambda layer: its Python code runs when the model loads",
                    member=member,
                    evidence=json.dumps(function)[:200] if function is not None else None,
                )
            )
        if (
            isinstance(module, str)
            and module
            and not any(module == p or module.startswith(p + ".") for p in KERAS_MODULE_PREFIXES)
        ):
            issues.append(
                ContainerIssue(
                    "keras-module",
                    f"config names {module}.{class_name}, outside Keras: it is "
                    "imported when the model loads",
                    member=member,
                    evidence=f"{module}.{class_name}",
                )
            )
        if class_name in KERAS_FILE_LAYERS:
            issues.append(
                ContainerIssue(
                    "keras-external",
                    f"Keras {class_name} layer: loading the model loads another saved model "
                    "from disk, code included",
                    member=member,
                    evidence=json.dumps(node.get("config"))[:200],
                )
            )
        inner = node.get("config")
        vocabulary = inner.get("vocabulary") if isinstance(inner, dict) else None
        if class_name in KERAS_VOCAB_LAYERS and isinstance(vocabulary, str) and vocabulary:
            issues.append(
                ContainerIssue(
                    "keras-external",
                    f"Keras {class_name} layer reads its vocabulary from the file "
                    f"{vocabulary[:120]!r} when the model loads",
                    member=member,
                    evidence=vocabulary[:200],
                )
            )
    return issues
