"""Discovery hands every model format the models check reads to it: a project walk picks
them up and a single file named on the command line is read as a model, not sniffed as a
lock file (issue 13: one list of model suffixes, scanner.infra.model_formats)."""

from __future__ import annotations

import gzip
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.infra.model_formats import model_suffix
from scanner.sources.discover import collect_target, is_model_candidate
from tests.models import picklekit as kit


def _gguf(path: Path) -> None:
    """A GGUF file whose chat template climbs to os (CVE-2024-34359 shape)."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    template = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    kv = string("general.architecture") + struct.pack("<I", 8) + string("llama")
    kv += string("tokenizer.chat_template") + struct.pack("<I", 8) + string(template)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv)


def _dill(path: Path) -> None:
    path.write_bytes(kit.os_system())


def _pt2(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model/archive_format", "pt2")
        zf.writestr("model/data/constants/c0", kit.os_system())


def _mar(path: Path) -> None:
    manifest = {"runtime": "python", "model": {"modelName": "m", "handler": "handler.py"}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("MAR-INF/MANIFEST.json", json.dumps(manifest))
        zf.writestr("model.pkl", kit.os_system())


def _joblib_gz(path: Path) -> None:
    path.write_bytes(gzip.compress(kit.os_system()))


MAKERS: dict[str, Callable[[Path], None]] = {
    "model.gguf": _gguf,
    "state.dill": _dill,
    "exported.pt2": _pt2,
    "served.mar": _mar,
    "pipeline.joblib.gz": _joblib_gz,
}


def _scan(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(
        main, ["scan", *args, "--check", "models", "--no-cache", "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_project_walk_blocks_a_malicious_model_of_each_format(tmp_path: Path, name: str) -> None:
    project = tmp_path / "project"
    (project / "weights").mkdir(parents=True)
    MAKERS[name](project / "weights" / name)
    inventory = collect_target(project)
    assert [m.path.name for m in inventory.model_files] == [name]
    code, findings = _scan(str(project))
    assert code == 1
    assert any(name in str(f["path"]) and f["severity"] in ("critical", "high") for f in findings)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_single_model_file_is_read_as_a_model(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    MAKERS[name](tmp_path / name)
    monkeypatch.chdir(tmp_path)
    inventory = collect_target(Path(name))
    assert not inventory.lockfiles and [m.path.name for m in inventory.model_files] == [name]
    code, findings = _scan(name)
    assert code == 1 and findings


def test_suffixes_are_matched_case_blind_and_whole() -> None:
    assert model_suffix("M.GGUF") == ".gguf"
    assert model_suffix("p.joblib.gz") == ".joblib.gz"
    assert model_suffix("notes.gz") is None and model_suffix("requirements.txt") is None
    assert model_suffix("graph.pb") == ".pb"


def test_a_tensorflow_graph_is_read_when_named_but_not_walked(tmp_path: Path) -> None:
    graph = tmp_path / "graph.pb"
    graph.write_bytes(b"\x08\x01")
    assert not is_model_candidate(graph)
    assert [m.path for m in collect_target(graph).model_files] == [graph]
