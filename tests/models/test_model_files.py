"""Model containers and the model-files check, on files built here and by the real libraries."""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.models.check import check_model_files, vulnerable_torch
from scanner.checks.models.model_files import is_model_file, scan_model_file, validate_safetensors
from scanner.checks.models.settings import ModelAllow, ModelSettings
from scanner.models import (
    Environment,
    Finding,
    InstalledDistribution,
    Inventory,
    LockedPackage,
    Lockfile,
    ModelFile,
    PinKind,
    Severity,
)
from scanner.options import ScanOptions
from tests.models import picklekit as kit


def _check(
    *paths: Path, options: ScanOptions | None = None, inventory: Inventory | None = None
) -> list[Finding]:
    files = tuple(ModelFile(path=p, size=p.stat().st_size) for p in paths)
    base = inventory or Inventory()
    inv = Inventory(lockfiles=base.lockfiles, environments=base.environments, model_files=files)
    return list(check_model_files(inv, CheckContext(options or ScanOptions())).findings)


def _rules(findings: list[Finding]) -> set[tuple[str, Severity]]:
    return {(f.rule_id, f.severity) for f in findings}


# -- the canary: scanning never runs the payload ----------------------------------------------


def test_canary_scan_never_runs_reduce(tmp_path: Path) -> None:
    marker = tmp_path / "canary-was-unpickled"
    import builtins

    data = kit.reduce_pickle(builtins.open, (str(marker), "w"))
    for name, payload in {"c.pkl": data, "c.pt": data}.items():
        (tmp_path / name).write_bytes(payload)
    kit.torch_zip(tmp_path / "c.bin", data)
    (tmp_path / "c.npy").write_bytes(kit.npy_object(data))
    findings = _check(*(tmp_path / n for n in ("c.pkl", "c.pt", "c.bin", "c.npy")))
    assert not marker.exists()
    assert sum(f.rule_id == "WS-PICKLE-001" for f in findings) == 4
    assert all(f.severity == Severity.CRITICAL for f in findings if f.rule_id == "WS-PICKLE-001")


# -- containers --------------------------------------------------------------------------------


def test_torch_zip_benign_and_malicious(tmp_path: Path) -> None:
    good = kit.torch_zip(tmp_path / "good.pt", kit.torch_like_state_dict())
    bad = kit.torch_zip(tmp_path / "pytorch_model.bin", kit.os_system())
    assert _check(good) == []
    (finding,) = _check(bad)
    assert finding.rule_id == "WS-PICKLE-001" and finding.path.endswith("archive/data.pkl")
    assert "posix.system" in (finding.evidence or "")


def test_torch_zip_reads_only_the_pickle(tmp_path: Path) -> None:
    # Storage members hold garbage that is no pickle: it must never be read as one.
    path = tmp_path / "big.ckpt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ckpt/data.pkl", kit.torch_like_state_dict())
        zf.writestr("ckpt/data/0", b"\xff" * (1 << 20))
    scan = scan_model_file(path)
    assert scan.format == "torch-zip" and [m.member for m in scan.pickles] == ["ckpt/data.pkl"]


def test_every_pkl_member_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", kit.torch_like_state_dict())
        zf.writestr("archive/extra/constants.pkl", kit.os_system())
    (finding,) = _check(path)
    assert finding.path.endswith("archive/extra/constants.pkl")


def test_seven_zip_posing_as_bin(tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(bytes.fromhex("377ABCAF271C0004") + b"\x00" * 64)
    assert is_model_file(path)
    assert ("WS-MODEL-001", Severity.HIGH) in _rules(_check(path))


def test_zip_of_zips_posing_as_pt(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("archive/data.pkl", kit.os_system())
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("payload.zip", inner.getvalue())
    findings = _check(path)
    assert sorted(f.rule_id for f in findings) == ["WS-MODEL-001", "WS-PICKLE-001"]
    assert "payload.zip" in next(f.message for f in findings if f.rule_id == "WS-MODEL-001")
    # the nested checkpoint is scanned too, and named through its parent
    assert next(f.path for f in findings if f.rule_id == "WS-PICKLE-001").endswith(
        "model.pt!payload.zip!archive/data.pkl"
    )


def test_pth_path_file_is_not_a_model(tmp_path: Path) -> None:
    text = tmp_path / "easy-install.pth"
    text.write_text("/opt/lib\nimport os\n")
    ckpt = tmp_path / "weights.pth"
    ckpt.write_bytes(kit.torch_like_state_dict())
    other_bin = tmp_path / "firmware.bin"
    other_bin.write_bytes(b"\x7fELF" + b"\x00" * 60)
    assert not is_model_file(text) and is_model_file(ckpt) and not is_model_file(other_bin)
    assert is_model_file(kit.torch_zip(tmp_path / "m.pth", kit.torch_like_state_dict()))


def test_extension_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(kit.torch_like_state_dict())
    assert "WS-MODEL-001" in {f.rule_id for f in _check(path)}
    npy = tmp_path / "weights.npy"
    npy.write_bytes(kit.torch_like_state_dict())
    assert "WS-MODEL-001" in {f.rule_id for f in _check(npy)}


def test_legacy_torch_tar(tmp_path: Path) -> None:
    good = kit.legacy_tar(tmp_path / "old.pt")
    assert scan_model_file(good).format == "torch-tar"
    assert _check(good) == []
    evil_record = kit.program(kit.call("posix", "system", kit.ustr("id")), 2)
    bad = kit.legacy_tar(tmp_path / "evil.pt", record=evil_record)
    findings = _check(bad)
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(findings)
    assert any(f.path.endswith("!storages") for f in findings)


def test_hdf5_without_a_model_config_holds_no_code(tmp_path: Path) -> None:
    # weights only (model.weights.h5): keras reads no config from it, so nothing runs
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert _check(path) == []
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b'{"class_name": "Lambda", "config": {}}' + b"\x00")
    assert _rules(_check(path)) == {("WS-MODEL-002", Severity.HIGH)}


# -- numpy -------------------------------------------------------------------------------------


def test_npy_object_array_with_payload(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    path.write_bytes(kit.npy_object(kit.os_system()))
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(_check(path))
    plain = tmp_path / "y.npy"
    plain.write_bytes(kit.npy_plain())
    assert _check(plain) == []


def test_npy_bad_header_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    text = b"__import__('os').system('id')\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text)
    assert _rules(_check(path)) == {("WS-MODEL-006", Severity.HIGH)}


def test_npz_members(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.npy", kit.npy_plain())
        zf.writestr("b.npy", kit.npy_object(kit.os_system()))
    (finding,) = _check(path)
    assert finding.rule_id == "WS-PICKLE-001" and finding.path.endswith("!b.npy")


def test_real_numpy_files_pass(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    np.save(tmp_path / "f.npy", np.arange(10.0))
    np.save(
        tmp_path / "o.npy", np.array([1, "x", None, {"k": (1, 2)}], dtype=object), allow_pickle=True
    )
    np.savez(tmp_path / "z.npz", a=np.zeros((3, 3)), o=np.array([[1, "a"]], dtype=object))
    np.savez_compressed(tmp_path / "zc.npz", a=np.ones(5, dtype=np.int16))
    with (tmp_path / "arr.pkl").open("wb") as fh:
        pickle.dump(
            {
                "a": np.arange(3),
                "rng": np.random.default_rng(0),
                "s": np.float32(1.0),
                "r": np.zeros(2, dtype=[("x", "<i4"), ("y", "O")]),
            },
            fh,
        )
    paths = [tmp_path / n for n in ("f.npy", "o.npy", "z.npz", "zc.npz", "arr.pkl")]
    assert _check(*paths) == []


def test_real_joblib_dumps_pass(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    joblib = pytest.importorskip("joblib")
    value = {
        "w": np.arange(1000.0).reshape(10, 100),
        "i": np.arange(7, dtype=np.int16),
        "o": np.array([1, "x"], dtype=object),
        "f": np.zeros((3, 4), order="F"),
        "u": np.array(["ab", "cde"]),
        "meta": {"name": "m"},
    }
    paths = []
    for name, compress in (
        ("m.joblib", 0),
        ("mz.joblib", 3),
        ("mg.pkl", ("gzip", 3)),
        ("mx.joblib", ("xz", 1)),
        ("mb.joblib", ("bz2", 1)),
    ):
        joblib.dump(value, tmp_path / name, compress=compress)
        paths.append(tmp_path / name)
    assert _check(*paths) == []
    evil = tmp_path / "evil.joblib"
    joblib.dump({"w": np.arange(10.0), "x": kit._Reduce(print, ("hi",))}, evil)
    assert "WS-PICKLE-001" in {f.rule_id for f in _check(evil)}


# -- real torch checkpoints ---------------------------------------------------------------------


def test_real_torch_checkpoints_pass(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    optim = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    optim.step()
    sched = torch.optim.lr_scheduler.StepLR(optim, 1)
    torch.save(model.state_dict(), tmp_path / "sd.pt")
    torch.save(optim.state_dict(), tmp_path / "optim.pth")
    torch.save(
        {
            "epoch": 2,
            "global_step": 10,
            "pytorch-lightning_version": "2.4.0",
            "state_dict": model.state_dict(),
            "optimizer_states": [optim.state_dict()],
            "lr_schedulers": [sched.state_dict()],
            "hyper_parameters": {"lr": 1e-3},
            "loops": {"fit_loop": {"epoch_progress": {"total": {"ready": 2}}}},
        },
        tmp_path / "last.ckpt",
    )
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    torch.save(model.state_dict(), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.save(
        {
            "bf16": torch.zeros(2, dtype=torch.bfloat16),
            "i": torch.arange(3),
            "dtype": torch.float16,
            "device": torch.device("cpu"),
            "version": torch.__version__,
            "sparse": torch.eye(2).to_sparse(),
        },
        tmp_path / "misc.pt",
    )
    names = ("sd.pt", "optim.pth", "last.ckpt", "pytorch_model.bin", "legacy.pt", "misc.pt")
    paths = [tmp_path / n for n in names]
    assert all(is_model_file(p) for p in paths)
    assert _check(*paths) == []
    torch.save(model, tmp_path / "full.pt")  # a whole module: classes torch will not allow
    assert _rules(_check(tmp_path / "full.pt")) == {("WS-PICKLE-002", Severity.HIGH)}


# -- safetensors -------------------------------------------------------------------------------


def _validate(data: bytes) -> list[str]:
    return validate_safetensors(io.BytesIO(data), len(data))


def test_safetensors_valid() -> None:
    data = kit.safetensors(
        {
            "a": ("F32", [2, 3], 24),
            "b": ("BF16", [4], 8),
            "c": ("F4", [4], 2),
            "empty": ("I64", [0], 0),
        }
    )
    assert _validate(data) == []


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x01\x00", "shorter"),
        (struct.pack("<Q", 1 << 40) + b"{}", "limit"),
        (struct.pack("<Q", 100) + b"{}", "past the end"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (struct.pack("<Q", 3) + b"{\xff}", "UTF-8"),
        (kit.safetensors({"a": ("F33", [2], 8)}), "unknown dtype"),
        (kit.safetensors({"a": ("F32", [2, -1], 8)}), "bad shape"),
        (kit.safetensors({"a": ("F32", [3], 8)}), "needs more than the 8"),
        (kit.safetensors({"a": ("F32", [1], 8)}), "needs 4"),
        (
            kit.safetensors({"a": ("F32", [2], 8), "b": ("F32", [2], 8)}, offsets={"b": [4, 12]}),
            "overlaps",
        ),
        (kit.safetensors({"a": ("F32", [2], 8)}, trailing=b"\x80\x04hidden"), "after the last"),
        (kit.safetensors({"a": ("F32", [2], 8)}, offsets={"a": [0, 800]}), "outside"),
        (kit.safetensors({"a": ("F32", [2], 8)}, header_extra=', "a": {}'), "duplicate"),
        (
            kit.safetensors({"a": ("F32", [2], 8)}, header_extra=', "b": {"dtype": "F32"}'),
            "exactly",
        ),
    ],
)
def test_safetensors_invalid(data: bytes, needle: str) -> None:
    problems = _validate(data)
    assert problems and any(needle in p for p in problems), problems


def test_safetensors_check(tmp_path: Path) -> None:
    good = tmp_path / "model.safetensors"
    good.write_bytes(kit.safetensors({"w": ("F16", [8], 16)}))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(kit.safetensors({"w": ("F16", [8], 16)}, trailing=b"x" * 10))
    assert _check(good) == []
    assert _rules(_check(bad)) == {("WS-MODEL-003", Severity.HIGH)}


# -- keras -------------------------------------------------------------------------------------


def test_keras_lambda_and_foreign_modules(tmp_path: Path) -> None:
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}
    good = kit.keras_zip(tmp_path / "good.keras", [dense])
    assert _check(good) == []
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEA"}}},
    }
    bad = kit.keras_zip(tmp_path / "lambda.keras", [dense, lam])
    assert ("WS-MODEL-002", Severity.HIGH) in _rules(_check(bad))
    foreign = {"module": "os", "class_name": "system", "config": {}}
    custom = {"module": "my_layers", "class_name": "Gate", "config": {}}
    worse = kit.keras_zip(tmp_path / "foreign.keras", [foreign, custom])
    assert _rules(_check(worse)) == {
        ("WS-MODEL-004", Severity.CRITICAL),
        ("WS-MODEL-004", Severity.HIGH),
    }


# -- policy: user allowlist and torch < 2.6 ----------------------------------------------------


def _allow(*entries: ModelAllow) -> ScanOptions:
    return ScanOptions(models=ModelSettings(allow=entries))


def test_user_allowlist_per_path(tmp_path: Path) -> None:
    data = kit.program(kit.glob("mypkg.config", "TrainConfig") + kit.EMPTY_TUPLE + kit.REDUCE)
    path = tmp_path / "models" / "run.pt"
    path.parent.mkdir()
    path.write_bytes(data)
    assert _rules(_check(path)) == {("WS-PICKLE-002", Severity.HIGH)}
    allow = _allow(ModelAllow(path="models/*.pt", globals=("mypkg.config.*",)))
    assert _check(path, options=allow) == []
    other = _allow(ModelAllow(path="elsewhere/*.pt", globals=("mypkg.config.*",)))
    assert _check(path, options=other) != []
    dangerous = tmp_path / "models" / "evil.pt"
    dangerous.write_bytes(kit.os_system())
    cannot = _allow(ModelAllow(path="*.pt", globals=("posix.*",)))
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(_check(dangerous, options=cannot))


def test_user_allowlist_by_sha256(tmp_path: Path) -> None:
    data = kit.program(kit.glob("mypkg.config", "TrainConfig") + kit.EMPTY_TUPLE + kit.REDUCE)
    vetted, changed = tmp_path / "vetted.pt", tmp_path / "changed.pt"
    vetted.write_bytes(data)
    changed.write_bytes(data + b"\x00")  # same global, other bytes
    digest = hashlib.sha256(data).hexdigest()
    options = _allow(ModelAllow(sha256=digest, globals=("mypkg.config.TrainConfig",)))
    assert _check(vetted, options=options) == []
    assert _rules(_check(changed, options=options)) == {("WS-PICKLE-002", Severity.HIGH)}
    both = _allow(ModelAllow(sha256=digest, path="elsewhere/*.pt", globals=("mypkg.config.*",)))
    assert _check(vetted, options=both) != []  # every selector an entry gives must match
    (finding,) = _check(changed, options=options)
    assert finding.fix is not None and "[[tool.wormsign.models.allow]]" in finding.fix


def _torch_inventory(version: str, tmp_path: Path) -> Inventory:
    lock = Lockfile(
        path=tmp_path / "requirements.txt",
        format="requirements",
        packages=(
            LockedPackage(
                name="torch",
                version=version,
                kind=PinKind.PINNED,
                lockfile=tmp_path / "requirements.txt",
            ),
        ),
    )
    return Inventory(lockfiles=(lock,))


def test_old_torch_raises_severity(tmp_path: Path) -> None:
    path = tmp_path / "run.pt"
    path.write_bytes(kit.program(kit.glob("mypkg", "Config") + kit.EMPTY_TUPLE + kit.REDUCE))
    (old,) = _check(path, inventory=_torch_inventory("2.5.1+cu121", tmp_path))
    assert old.severity == Severity.CRITICAL and "CVE-2025-32434" in old.message
    assert "torch 2.5.1+cu121" in old.message and "CVE-2025-32434" in old.references
    (new,) = _check(path, inventory=_torch_inventory("2.6.0", tmp_path))
    assert new.severity == Severity.HIGH and "CVE" not in new.message
    clean = tmp_path / "clean.pt"
    clean.write_bytes(kit.torch_like_state_dict())
    assert _check(clean, inventory=_torch_inventory("2.4.0", tmp_path)) == []
    safetensors = tmp_path / "bad.safetensors"
    safetensors.write_bytes(b"\x00" * 4)
    (st,) = _check(safetensors, inventory=_torch_inventory("2.4.0", tmp_path))
    assert st.severity == Severity.HIGH  # not a pickle: torch's bug does not apply


def test_vulnerable_torch_reads_installed_distributions(tmp_path: Path) -> None:
    dist = InstalledDistribution(
        name="torch",
        version="2.5.0",
        metadata_dir=tmp_path,
        site_packages=tmp_path,
        metadata_kind="dist-info",
        record=(),
    )
    env = Environment(site_packages=tmp_path, distributions=(dist,))
    assert vulnerable_torch(Inventory(environments=(env,))) == "torch 2.5.0 (installed)"
    assert vulnerable_torch(_torch_inventory("2.6.0-cu124", tmp_path)) is None
    assert vulnerable_torch(_torch_inventory("not-a-version", tmp_path)) is None


def test_real_safetensors_files_pass(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    st = pytest.importorskip("safetensors.numpy")
    st.save_file(
        {
            "w": np.zeros((3, 5), dtype=np.float32),
            "b": np.arange(7, dtype=np.int64),
            "h": np.ones(9, dtype=np.float16),
            "flag": np.array([True, False]),
            "empty": np.zeros((0, 4), dtype=np.float64),
        },
        tmp_path / "model.safetensors",
        metadata={"format": "np"},
    )
    data = (tmp_path / "model.safetensors").read_bytes()
    assert validate_safetensors(io.BytesIO(data), len(data)) == []
    assert _check(tmp_path / "model.safetensors") == []


def test_save_pretrained_style_directory_passes(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    sttorch = pytest.importorskip("safetensors.torch")
    model = torch.nn.Linear(4, 2)
    out = tmp_path / "checkpoint"
    out.mkdir()
    (out / "config.json").write_text('{"architectures": ["Linear"], "model_type": "toy"}')
    sttorch.save_file(model.state_dict(), out / "model.safetensors", metadata={"format": "pt"})
    torch.save(model.state_dict(), out / "pytorch_model.bin")  # save_pretrained(safe=False)
    torch.save({"step": 3}, out / "training_args.bin")
    paths = sorted(p for p in out.iterdir() if is_model_file(p))
    assert [p.name for p in paths] == [
        "model.safetensors",
        "pytorch_model.bin",
        "training_args.bin",
    ]
    assert _check(*paths) == []


def test_real_sklearn_joblib_dumps_pass(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x = np.random.default_rng(0).random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    models = {
        "forest": RandomForestClassifier(n_estimators=2).fit(x, y),
        "hgb": HistGradientBoostingClassifier(max_iter=2).fit(x, y),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
        "onehot": OneHotEncoder().fit([["a"], ["b"]]),
    }
    paths = []
    for name, model in models.items():
        joblib.dump(model, tmp_path / f"{name}.joblib")
        paths.append(tmp_path / f"{name}.joblib")
    assert _check(*paths) == []


def test_trusted_library_functions_are_not_classes(tmp_path: Path) -> None:
    # sklearn classes pass by naming convention; its functions and excluded modules do not.
    cases = {
        "fetch.pkl": kit.program(kit.call("sklearn.datasets", "fetch_openml", kit.ustr("x"))),
        "testing.pkl": kit.program(kit.call("sklearn.utils._testing", "TempMemmap", kit.ustr("x"))),
        "walk.pkl": kit.program(kit.call("sklearn.base", "BaseEstimator.__init__")),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert _check(tmp_path / name), name


def test_large_pickle_members_are_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.checks.models import model_files

    monkeypatch.setattr(model_files, "IN_MEMORY_MEMBER", 16)
    good = kit.torch_zip(tmp_path / "good.pt", kit.torch_like_state_dict())
    bad = kit.torch_zip(tmp_path / "bad.pt", pickle.dumps(b"x" * 100, protocol=4) + kit.os_system())
    assert _check(good) == []
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(_check(bad))
    npz = tmp_path / "a.npz"
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("o.npy", kit.npy_object(kit.os_system()))
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _rules(_check(npz))


def test_archives_hidden_inside_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", kit.torch_like_state_dict())
        zf.writestr("archive/extra.bin", bytes.fromhex("377ABCAF271C0004") + b"\x00" * 32)
        zf.writestr("archive/data/0", b"PK\x03\x04 raw tensor bytes are never sniffed")
    findings = _check(path)
    assert [(f.rule_id, f.path.rsplit("!", 1)[-1]) for f in findings] == [
        ("WS-MODEL-001", "archive/extra.bin")
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_torchscript_and_export_archives(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    torch.jit.save(torch.jit.script(model), tmp_path / "scripted.pt")
    # TorchScript carries its compiled code: reported (medium), never blocking by itself
    assert _rules(_check(tmp_path / "scripted.pt")) == {("WS-MODEL-007", Severity.MEDIUM)}
    program = torch.export.export(torch.nn.Linear(4, 3), (torch.randn(2, 4),))
    torch.export.save(program, tmp_path / "exported.pt2")
    assert _check(tmp_path / "exported.pt2") == []


def test_unreadable_model_file_is_a_source_error(tmp_path: Path) -> None:
    from scanner.errors import SourceError

    missing = tmp_path / "gone.pt"
    with pytest.raises(SourceError) as info:
        scan_model_file(missing)
    assert "gone.pt" in info.value.diagnostics()
    directory = tmp_path / "dir.pkl"
    directory.mkdir()
    with pytest.raises(SourceError):
        scan_model_file(directory)
