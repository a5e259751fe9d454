"""Issue 16, items 1-9: files real loaders unpickle must be read the way those loaders read
them. Each test pairs a malicious shape (blocked, critical) with its benign twin (clean).

Nothing here is ever unpickled or loaded: the malicious files are bytes built by picklekit.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.models.check import check_model_files, default_policy
from scanner.checks.models.model_files import scan_model_file
from scanner.models import Finding, Inventory, ModelFile, Severity
from scanner.options import ScanOptions
from tests.models import picklekit as kit


def _check(*paths: Path) -> list[Finding]:
    files = tuple(ModelFile(path=p, size=p.stat().st_size) for p in paths)
    return list(
        check_model_files(Inventory(model_files=files), CheckContext(ScanOptions())).findings
    )


def _critical(path: Path) -> list[Finding]:
    return [f for f in _check(path) if f.severity == Severity.CRITICAL]


def _blocked_critical(path: Path) -> None:
    findings = _check(path)
    assert any(f.severity == Severity.CRITICAL for f in findings), findings


def _clean(path: Path) -> None:
    findings = _check(path)
    assert findings == [], findings


def _benign_pickle(protocol: int) -> bytes:
    return pickle.dumps(collections.OrderedDict(w=[1.0, 2.0], step=3), protocol=protocol)


# -- 1. legacy torch files: five pickles in a row, any protocol --------------------------------


@pytest.mark.parametrize("slot", [2, 3, 4, 5])
@pytest.mark.parametrize("protocol", [0, 1])
def test_legacy_torch_payload_in_any_pickle(tmp_path: Path, slot: int, protocol: int) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(kit.torch_legacy(kit.os_system(protocol=protocol), protocol, at=slot))
    _blocked_critical(bad)
    good = tmp_path / "good.pt"
    good.write_bytes(kit.torch_legacy(_benign_pickle(protocol), protocol, at=slot))
    _clean(good)
    scan = scan_model_file(good)
    assert [len(m.scans) for m in scan.pickles] == [5]


def test_legacy_torch_real_file_protocol_1(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "legacy.pt"
    torch.save(
        {"w": torch.zeros(3), "n": 1}, path, _use_new_zipfile_serialization=False, pickle_protocol=1
    )
    scan = scan_model_file(path)
    assert [len(m.scans) for m in scan.pickles] == [5]
    assert not any(s.broken for m in scan.pickles for s in m.scans)
    assert any(
        g.qualname == "torch._utils._rebuild_tensor_v2" for g in scan.pickles[0].scans[3].globals
    )
    _clean(path)


# -- 2. numpy object dtypes however they are spelled ----------------------------------------


@pytest.mark.parametrize(
    "descr", ["'object'", "'object_'", "'i4,O'", "[('a', '<i4'), ('b', 'object')]", "('O', (2,))"]
)
def test_npy_object_dtype_spellings(tmp_path: Path, descr: str) -> None:
    bad = tmp_path / "evil.npy"
    bad.write_bytes(kit.npy_with_descr(descr, kit.os_system(protocol=2)))
    _blocked_critical(bad)
    npz = tmp_path / "evil.npz"
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("arr_0.npy", bad.read_bytes())
    _blocked_critical(npz)


def test_npy_structured_and_real_files_are_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    np.save(tmp_path / "rec.npy", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]))
    np.save(tmp_path / "objs.npy", np.array([1, "x"], dtype="object"), allow_pickle=True)
    np.savez(tmp_path / "mix.npz", a=np.arange(3), b=np.array([{"k": 1}], dtype=object))
    for name in ("rec.npy", "objs.npy", "mix.npz"):
        _clean(tmp_path / name)
    assert scan_model_file(tmp_path / "objs.npy").pickles  # the object array was walked


# -- 3. joblib arrays whose dtype is spelled 'object' with an item size of 8 -------------------


def _joblib_object_array(tmp_path: Path) -> bytes:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    path = tmp_path / "base.joblib"
    joblib.dump(np.array([1, "x"], dtype=object), path, protocol=2)
    data = path.read_bytes()
    # numpy.dtype('object') whose pickled state claims 8-byte items, as the issue found
    data = data.replace(b"X\x02\x00\x00\x00O8", b"X\x06\x00\x00\x00object", 1)
    return data.replace(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff", b"J\x08\x00\x00\x00" * 2, 1)


def test_joblib_object_dtype_spelled_out(tmp_path: Path) -> None:
    twin = _joblib_object_array(tmp_path)
    good = tmp_path / "good.joblib"
    good.write_bytes(twin)
    _clean(good)
    start = twin.index(b"ub\x80") + 2
    bad = tmp_path / "model.joblib"
    bad.write_bytes(twin[:start] + kit.os_system(protocol=2) + b".")
    _blocked_critical(bad)


# -- 4. lz4-compressed joblib files -----------------------------------------------------------


def test_lz4_joblib_payload_blocked(tmp_path: Path) -> None:
    bad = tmp_path / "model.joblib"
    bad.write_bytes(kit.lz4_stored_frame(kit.os_system()))
    _blocked_critical(bad)
    good = tmp_path / "good.joblib"
    good.write_bytes(kit.lz4_stored_frame(_benign_pickle(4)))
    _clean(good)


def test_lz4_joblib_real_files(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    lz4_frame = pytest.importorskip("lz4.frame")
    path = tmp_path / "model.joblib"
    joblib.dump(
        {"w": np.random.default_rng(0).random(50_000), "z": np.zeros(100_000)},
        path,
        compress="lz4",
    )
    scan = scan_model_file(path)
    assert scan.format == "joblib-compressed" and scan.pickles and not scan.issues
    _clean(path)
    # compressed (not stored) blocks carry the payload just as well
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(lz4_frame.compress(kit.os_system() * 50))
    _blocked_critical(bad)


# -- 5. headerless pickles (no PROTO) ----------------------------------------------------------


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "model.pth", "model.pkl"])
def test_headerless_pickle(tmp_path: Path, name: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(kit.headerless(kit.os_system(protocol=4)))
    assert bad.read_bytes()[:1] == b"\x8c"
    _blocked_critical(bad)
    good = tmp_path / f"good-{name}"
    good.write_bytes(kit.headerless(_benign_pickle(4)))
    _clean(good)


@pytest.mark.parametrize("first", [b"\x00", b"\x8a", b"\x93"])
def test_bin_that_is_no_pickle_stays_unscanned(tmp_path: Path, first: bytes) -> None:
    # raw bytes whose first byte happens to be a binary opcode: not a broken pickle
    path = tmp_path / "weights.bin"
    path.write_bytes(first + b"\x00\x01\x02\x03" * 64)
    assert {(f.rule_id, f.severity) for f in _check(path)} == {("WS-MODEL-005", Severity.MEDIUM)}


def test_member_that_only_starts_like_a_pickle_is_tensor_bytes(tmp_path: Path) -> None:
    # .pt2 weights are raw bytes: float data may start 80 02 without being a pickle
    raw = b"\x80\x02\xff\xfe" + bytes(range(256)) * 4
    path = kit.zip_with(
        tmp_path / "model.pt2",
        [("m/models/model.json", b"{}"), ("m/data/weights/weight_0", raw)],
    )
    assert _check(path) == []
    named = kit.zip_with(tmp_path / "named.pt", [("archive/data.pkl", raw)])
    assert any(f.rule_id == "WS-PICKLE-003" for f in _check(named))


# -- 6. zip members flagged as symlinks or devices ---------------------------------------------


@pytest.mark.parametrize("mode", [0o120777, 0o020644, 0o060644])
def test_flagged_zip_members_are_read(tmp_path: Path, mode: int) -> None:
    bad = kit.zip_with(
        tmp_path / "model.pt",
        [("archive/data.pkl", kit.os_system()), ("archive/version", b"3\n")],
        mode=mode,
    )
    _blocked_critical(bad)
    good = kit.zip_with(
        tmp_path / "good.pt",
        [("archive/data.pkl", kit.torch_like_state_dict()), ("archive/version", b"3\n")],
        mode=mode,
    )
    _clean(good)


# -- 7. pickles under other names (torch.package) ----------------------------------------------


@pytest.mark.parametrize("member", ["pkg/model/model.pickle", "pkg/extra/state", "pkg/x.pkl"])
def test_pickles_under_other_names(tmp_path: Path, member: str) -> None:
    layout = [(".data/version", b"6\n"), ("pkg/.data/extern_modules", b"")]
    bad = kit.zip_with(tmp_path / "package.pt", [*layout, (member, kit.os_system())])
    (finding,) = _critical(bad)
    assert finding.path.endswith(member)
    good = kit.zip_with(tmp_path / "good.pt", [*layout, (member, _benign_pickle(4))])
    _clean(good)


def test_torch_package_real_archive(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    import warnings

    from torch.package import PackageExporter

    path = tmp_path / "pkg.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that TypedStorage is deprecated
        with PackageExporter(path) as exporter:
            exporter.save_pickle("model", "model.pickle", {"w": torch.zeros(2), "n": 3})
    scan = scan_model_file(path)
    assert any(m.member and m.member.endswith("model.pickle") for m in scan.pickles)
    assert not [f for f in _check(path) if f.rule_id.startswith("WS-PICKLE")]


# -- 8. allow what a trusted module defines, not what it imports -------------------------------


def test_reexported_class_is_judged_as_what_it_is(tmp_path: Path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(
        kit.program(kit.call("sklearn.callback._transport", "Listener", kit.ustr("/tmp/s")), 2)
    )
    (finding,) = _critical(bad)
    assert "multiprocessing.connection.Listener" in finding.message
    good = tmp_path / "good.pkl"
    good.write_bytes(
        kit.program(kit.glob("sklearn.ensemble._forest", "RandomForestClassifier") + b")\x81", 2)
    )
    _clean(good)
    policy = default_policy()
    assert not policy.allowed(
        "sklearn.callback._transport.Thread", (), "sklearn.callback._transport", "Thread"
    )


def test_real_sklearn_model_is_clean(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    ensemble = pytest.importorskip("sklearn.ensemble")
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 4)), rng.integers(0, 2, 60)
    model = pipeline.make_pipeline(
        preprocessing.StandardScaler(), ensemble.RandomForestClassifier(n_estimators=3)
    ).fit(x, y)
    joblib.dump(model, tmp_path / "model.joblib")
    _clean(tmp_path / "model.joblib")


# -- 9. container tricks: read as the loader reads, report the payload itself -----------------


def test_hex_int_before_payload(tmp_path: Path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"I0x10\n0" + kit.os_system(protocol=0))
    _blocked_critical(bad)
    good = tmp_path / "good.pkl"
    good.write_bytes(b"I0x10\n0" + _benign_pickle(0))
    _clean(good)


def _v7_tar(path: Path, pickle_member: bytes) -> Path:
    """torch's legacy tar, written in the old v7 format: no `ustar` magic at offset 257."""
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        "pickle": pickle_member,
        "storages": pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2),
        "tensors": pickle.dumps(0, protocol=2),
    }
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(path.read_bytes())
    offset = 0
    while offset + 512 <= len(raw) and raw[offset] != 0:
        size = int(raw[offset + 124 : offset + 136].split(b"\x00")[0].strip() or b"0", 8)
        raw[offset + 257 : offset + 265] = b"\x00" * 8  # magic and version gone
        raw[offset + 148 : offset + 156] = b" " * 8
        checksum = sum(raw[offset : offset + 512])
        raw[offset + 148 : offset + 156] = f"{checksum:06o}\x00 ".encode()
        offset += 512 + (size + 511) // 512 * 512
    path.write_bytes(bytes(raw))
    assert raw[257:262] != b"ustar"
    with tarfile.open(path) as tf:  # tarfile (and so torch) still reads it
        assert tf.getnames() == ["sys_info", "pickle", "storages", "tensors"]
    return path


def test_tar_without_ustar_magic(tmp_path: Path) -> None:
    _blocked_critical(_v7_tar(tmp_path / "model.pt", kit.os_system(protocol=2)))
    _clean(_v7_tar(tmp_path / "good.pt", _benign_pickle(2)))


def _rename_local_header(path: Path, old: bytes, new: bytes) -> None:
    raw = path.read_bytes()
    at = raw.index(old)  # the first copy of the name is the local header's
    path.write_bytes(raw[:at] + new + raw[at + len(old) :])


def test_zip_local_name_differs_from_central_directory(tmp_path: Path) -> None:
    for name, payload, check in (
        ("model.pt", kit.os_system(), _blocked_critical),
        ("good.pt", kit.torch_like_state_dict(), _clean),
    ):
        path = kit.zip_with(tmp_path / name, [("archive/data.pkl", payload)])
        _rename_local_header(path, b"archive/data.pkl", b"archive/data.pkX")
        with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile):
            zf.read("archive/data.pkl")
        check(path)


def test_zip_bad_crc(tmp_path: Path) -> None:
    for name, payload, check in (
        ("model.pt", kit.os_system(), _blocked_critical),
        ("good.pt", kit.torch_like_state_dict(), _clean),
    ):
        path = kit.zip_with(tmp_path / name, [("archive/data.pkl", payload)])
        raw = bytearray(path.read_bytes())
        crc = struct.pack("<I", zlib.crc32(payload))
        for at in (raw.index(crc), raw.rindex(crc)):  # local header and central directory
            raw[at : at + 4] = b"\x00\x00\x00\x00"
        path.write_bytes(bytes(raw))
        with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile):
            zf.read("archive/data.pkl")
        check(path)


def test_zip_duplicate_data_pkl(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        bad = kit.zip_with(
            tmp_path / "model.pt",
            [
                ("archive/data.pkl", kit.torch_like_state_dict()),
                ("archive/data.pkl", kit.os_system()),
            ],
        )
        good = kit.zip_with(
            tmp_path / "good.pt",
            [("archive/data.pkl", kit.torch_like_state_dict())] * 2,
        )
    _blocked_critical(bad)
    _clean(good)


def test_keras_config_behind_a_traversal_name(tmp_path: Path) -> None:
    import json

    def keras(path: Path, layer: dict[str, object]) -> Path:
        config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}
        dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}}
        benign = {"module": "keras", "class_name": "Sequential", "config": {"layers": [dense]}}
        return kit.zip_with(
            path,
            [
                ("metadata.json", b'{"keras_version": "3.6.0"}'),
                ("config.json", json.dumps(benign).encode()),
                ("archive/../config.json", json.dumps(config).encode()),
            ],
        )

    bad = keras(tmp_path / "model.keras", {"module": "os", "class_name": "system", "config": {}})
    _blocked_critical(bad)
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 4}}
    _clean(keras(tmp_path / "good.keras", dense))


def test_npy_header_with_python2_long(tmp_path: Path) -> None:
    bad = tmp_path / "evil.npy"
    bad.write_bytes(kit.npy_with_descr("'|O'", kit.os_system(protocol=2), shape="(1L,)"))
    _blocked_critical(bad)
    good = tmp_path / "good.npy"
    good.write_bytes(kit.npy_with_descr("'<f8'", b"\x00" * 16, shape="(2L,)"))
    _clean(good)
