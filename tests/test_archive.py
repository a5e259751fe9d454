"""The one safe archive reader, attacked."""

from __future__ import annotations

import io
import random
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from scanner.errors import ArchiveError
from scanner.infra.archive import Limits, SafeArchive, normalise_member_name


def make_zip(
    path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(
    path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None
) -> Path:
    data = data or {}
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
            else:
                tf.addfile(info)
    return path


def test_reads_zip_members(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.whl", {"pkg/__init__.py": b"x = 1\n", "pkg/data/": b""})
    with SafeArchive(path) as ar:
        assert [m.name for m in ar.files()] == ["pkg/__init__.py"]
        assert ar.read("pkg/__init__.py") == b"x = 1\n"
        assert ar.read("pkg/__init__.py", limit=3) == b"x ="


def test_reads_tar_members(tmp_path: Path) -> None:
    info = tarfile.TarInfo("pkg-1.0/setup.py")
    path = make_tar(tmp_path / "pkg-1.0.tar.gz", [info], {"pkg-1.0/setup.py": b"print(1)\n"})
    with SafeArchive(path) as ar:
        assert ar.read("pkg-1.0/setup.py") == b"print(1)\n"


@pytest.mark.parametrize(
    "name",
    [
        "../evil.py",
        "a/../../evil.py",
        "/etc/passwd",
        "C:/x.py",
        "a\\..\\..\\x.py",
        "bad\nname.py",
        "bad\x1b[31m.py",
    ],
)
def test_escaping_names_are_refused(name: str) -> None:
    with pytest.raises(ArchiveError):
        normalise_member_name(name)


def test_zip_traversal_member(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "t.whl", {"../../outside.py": b"x"})
    with pytest.raises(ArchiveError, match="escapes") as exc:
        SafeArchive(path)
    assert str(path) in exc.value.diagnostics()
    assert not (tmp_path.parent / "outside.py").exists()


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bomb.whl", {"zeros.bin": b"\0" * (50 << 20)})
    start = time.monotonic()
    with pytest.raises(ArchiveError, match="ratio"):
        SafeArchive(path)
    assert time.monotonic() - start < 5


def test_zip_total_size_limit(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "big.zip", {f"f{i}": b"x" * 1000 for i in range(20)}, zipfile.ZIP_STORED
    )
    with pytest.raises(ArchiveError, match="total"):
        SafeArchive(path, Limits(max_total_size=10_000))


def test_member_count_limit(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "many.zip", {f"f{i}": b"" for i in range(50)})
    with pytest.raises(ArchiveError, match="more than 10 members"):
        SafeArchive(path, Limits(max_members=10))


def test_member_lying_about_its_size(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "liar.zip", {"a.txt": b"A" * 5000}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    # Shrink the declared uncompressed size in the central directory; a reader that trusts
    # headers would hand out more bytes than the limits were checked against.
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with SafeArchive(path) as ar, pytest.raises(ArchiveError):
        ar.read("a.txt")


def test_duplicate_entries(tmp_path: Path) -> None:
    path = tmp_path / "dup.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/a.py", b"1")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("pkg/a.py", b"2")
    with pytest.raises(ArchiveError, match="twice"):
        SafeArchive(path)


def test_names_colliding_after_normalisation(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "c.whl", {"pkg/a.py": b"1", "pkg/./a.py": b"2"})
    with pytest.raises(ArchiveError, match="twice"):
        SafeArchive(path)


def test_tar_links_and_devices_are_never_read(tmp_path: Path) -> None:
    sym = tarfile.TarInfo("p/link")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("p/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../etc/shadow"
    dev = tarfile.TarInfo("p/dev")
    dev.type = tarfile.CHRTYPE
    path = make_tar(tmp_path / "p-1.tar.gz", [sym, hard, dev])
    with SafeArchive(path) as ar:
        kinds = {m.name: m.kind for m in ar.members()}
        assert kinds == {"p/link": "symlink", "p/hard": "hardlink", "p/dev": "other"}
        assert ar.files() == []
        for name in kinds:
            with pytest.raises(ArchiveError, match="not read"):
                ar.read(name)


def test_tar_absolute_member(tmp_path: Path) -> None:
    path = make_tar(
        tmp_path / "abs-1.tar.gz", [tarfile.TarInfo("/etc/cron.d/x")], {"/etc/cron.d/x": b"x"}
    )
    with pytest.raises(ArchiveError, match="absolute"):
        SafeArchive(path)


def test_tar_bomb_stops_early(tmp_path: Path) -> None:
    path = tmp_path / "bomb-1.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("bomb-1/zeros")
        info.size = 300 << 20
        tf.addfile(info, io.BytesIO(b"\0" * info.size))
    start = time.monotonic()
    limits = Limits(max_total_size=100 << 20)
    with pytest.raises(ArchiveError, match="tar bomb"), SafeArchive(path, limits) as ar:
        for _ in ar.iter_files():
            pass
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("cut", [10, 100, 0.5])
def test_truncated_archives(tmp_path: Path, cut: float) -> None:
    good = make_zip(tmp_path / "g.whl", {f"pkg/m{i}.py": bytes(range(256)) * 40 for i in range(5)})
    tar_info = tarfile.TarInfo("pkg-1/setup.py")
    good_tar = make_tar(
        tmp_path / "pkg-1.tar.gz", [tar_info], {"pkg-1/setup.py": bytes(range(256)) * 400}
    )
    for src in (good, good_tar):
        raw = src.read_bytes()
        n = int(len(raw) * cut) if isinstance(cut, float) else cut
        bad = tmp_path / f"trunc-{src.name}"
        bad.write_bytes(raw[:n])
        with pytest.raises(ArchiveError) as exc, SafeArchive(bad) as ar:
            for _ in ar.iter_files():
                pass
        assert str(bad) in exc.value.diagnostics()


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "x.whl"
    path.write_bytes(b"hello")
    with pytest.raises(ArchiveError, match="not a zip or tar"):
        SafeArchive(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot read"):
        SafeArchive(tmp_path / "missing.whl")


def test_tar_duplicate_members_keep_the_last_and_are_recorded(tmp_path: Path) -> None:
    # pyarrow's real sdist ships LICENSE.txt twice; extraction keeps the last copy.
    first, second = tarfile.TarInfo("p-1/LICENSE.txt"), tarfile.TarInfo("p-1/LICENSE.txt")
    path = tmp_path / "p-1.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for info, data in ((first, b"one"), (second, b"two")):
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with SafeArchive(path) as ar:
        assert ar.read("p-1/LICENSE.txt") == b"two"
        assert ar.name_collisions == [("p-1/LICENSE.txt", "p-1/LICENSE.txt")]


def test_small_highly_compressible_member_is_not_a_bomb(tmp_path: Path) -> None:
    # onnx and pillow wheels hold members far over 200:1 (zero-filled test data,
    # padded .so files) inside archives whose overall ratio is ordinary.
    members = {"pkg/zeros.pb": b"\0" * (2 << 20)}
    members.update({f"pkg/m{i}.bin": random.Random(i).randbytes(1 << 20) for i in range(8)})
    with SafeArchive(make_zip(tmp_path / "ok.whl", members)) as ar:
        assert len(ar.files()) == 9
