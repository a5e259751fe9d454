"""The safe reader attacked where tests/test_archive.py does not go, and every hostile
archive driven through the CLI: exit 3 or a finding, one stderr line, bounded time.

Nested archives are bounded everywhere: zips inside a model zip are followed to
MAX_NESTED_DEPTH levels (each at most MAX_NESTED_ZIP bytes) and the rest reported; a
wheel inside a wheel or sdist is only bytes to the rules; pickles passed to
`pickle.loads` inside pickles are followed MAX_NESTING levels.
"""

from __future__ import annotations

import io
import json
import random
import struct
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.checks.models.pickle_scan import MAX_NESTING, PickleScan, scan_pickle_bytes
from scanner.cli import main
from scanner.errors import ArchiveError
from scanner.infra.archive import DEFAULT_LIMITS, Limits, SafeArchive
from tests.helpers.wheels import make_wheel

BOUND_S = 90.0  # generous: CI machines are shared and slow; a hang is minutes or forever


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def many_member_zip(path: Path, count: int) -> Path:
    """A stored zip of `count` empty members, written directly (zipfile is too slow)."""
    local = bytearray()
    central = bytearray()
    for i in range(count):
        name = f"m/{i:07d}".encode()
        offset = len(local)
        local += (
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        )
        central += (
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    entries = min(count, 0xFFFF)
    end = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(local), 0
    )
    if count > 0xFFFF:  # zip64 end records for the true count
        zip64_end = struct.pack(
            "<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), len(local)
        )
        locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(local) + len(central), 1)
        end = (
            zip64_end
            + locator
            + struct.pack(
                "<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
            )
        )
    path.write_bytes(bytes(local + central + end))
    return path


# -- the reader -----------------------------------------------------------------------------


def test_many_tiny_members_past_the_default_limit_refused_quickly(tmp_path: Path) -> None:
    path = many_member_zip(tmp_path / "many.whl", DEFAULT_LIMITS.max_members + 1)
    start = time.perf_counter()
    with pytest.raises(ArchiveError, match="more than"):
        SafeArchive(path)
    assert time.perf_counter() - start < BOUND_S


def test_many_tiny_members_at_the_limit_are_read(tmp_path: Path) -> None:
    path = many_member_zip(tmp_path / "ok.zip", 5000)
    with SafeArchive(path, Limits(max_members=5000)) as archive:
        assert len(archive.files()) == 5000
        assert archive.read("m/0004999") == b""
    with pytest.raises(ArchiveError, match="more than 4999"):
        SafeArchive(path, Limits(max_members=4999))


def test_many_small_compressible_members_are_a_bomb(tmp_path: Path) -> None:
    """Each member is under the per-member ratio floor; together they are a 1000:1 bomb."""
    member = b"\0" * DEFAULT_LIMITS.ratio_floor
    path = tmp_path / "bomb.whl"
    path.write_bytes(zip_bytes({f"pkg/m{i}.py": member for i in range(300)}))
    assert path.stat().st_size * DEFAULT_LIMITS.max_ratio < 300 * len(member)
    with pytest.raises(ArchiveError, match="ratio"):
        SafeArchive(path)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("pkg/Module.py", "pkg/module.py"),
        ("pkg/caf\u00e9.py", "pkg/cafe\u0301.py"),  # NFC vs NFD
        ("PKG/a.py", "pkg/A.py"),
        ("pkg/stra\u00dfe.py", "pkg/STRASSE.py"),  # casefold: sharp s
    ],
)
def test_names_colliding_by_case_or_unicode_are_recorded(
    tmp_path: Path, first: str, second: str
) -> None:
    path = tmp_path / "collide.whl"
    path.write_bytes(zip_bytes({first: b"a = 1\n", second: b"import os\n"}))
    with SafeArchive(path) as archive:
        assert archive.name_collisions == [(first, second)]
        assert archive.read(first) == b"a = 1\n"
        assert archive.read(second) == b"import os\n"


def test_distinct_names_record_no_collision(tmp_path: Path) -> None:
    path = tmp_path / "fine.whl"
    path.write_bytes(zip_bytes({"pkg/a.py": b"", "pkg/b.py": b"", "pkg/": b""}))
    with SafeArchive(path) as archive:
        assert archive.name_collisions == []


def nested_zip(depth: int, core: bytes) -> bytes:
    data = core
    for level in range(depth):
        data = zip_bytes({f"level{level}.zip": data})
    return data


def test_nested_archives_are_opened_to_a_bounded_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 60-deep zip of zips as a checkpoint and inside a wheel: the model scan follows
    nested zips MAX_NESTED_DEPTH levels and reports the rest; the rules never recurse."""
    from scanner.checks.models.model_files import MAX_NESTED_DEPTH, scan_model_file

    opened: list[Path] = []
    real_init = SafeArchive.__init__

    def counting_init(self: SafeArchive, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        opened.append(path)
        real_init(self, path, limits)

    monkeypatch.setattr(SafeArchive, "__init__", counting_init)
    deep = nested_zip(60, b"\x80\x04N.")
    model = tmp_path / "model.pt"
    model.write_bytes(deep)
    start = time.perf_counter()
    scan = scan_model_file(model)
    assert time.perf_counter() - start < BOUND_S
    assert opened[0] == model
    assert 1 < len(opened) <= MAX_NESTED_DEPTH + 1
    assert any(issue.kind == "unscanned" and "too deep" in issue.message for issue in scan.issues)
    heuristics = pytest.importorskip("scanner.checks.heuristics.check")
    wheel = make_wheel(tmp_path, "nest", "1.0", {"nest/inner.whl": deep, "nest/x.zip": deep})
    opened.clear()
    heuristics.scan_distribution_file(wheel)
    assert opened == [wheel]


def nested_pickle(depth: int) -> bytes:
    """pickle.loads(pickle.loads(... b'os.system' ...)) nested `depth` times."""
    inner = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04echo\x85R."
    for _ in range(depth):
        inner = (
            b"\x80\x04\x8c\x06pickle\x8c\x05loads\x93"
            + b"B"
            + struct.pack("<I", len(inner))
            + inner
            + b"\x85R."
        )
    return inner


def test_pickles_inside_pickles_are_followed_to_a_bounded_depth() -> None:
    start = time.perf_counter()
    scan = scan_pickle_bytes(nested_pickle(200))
    assert time.perf_counter() - start < BOUND_S
    depth = 0
    level: PickleScan | None = scan
    while level is not None:
        depth += 1
        level = level.nested[0].scan if level.nested else None
    assert 1 < depth <= MAX_NESTING + 1
    shallow = scan_pickle_bytes(nested_pickle(2))
    found = {g.qualname for n in shallow.nested for nn in n.scan.nested for g in nn.scan.globals}
    assert "os.system" in found


# -- through the CLI -----------------------------------------------------------------------


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _device(name: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info, None


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _duplicated_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/a.py", b"benign = 1\n")
        with pytest.warns(UserWarning, match="Duplicate"):
            zf.writestr("pkg/a.py", b"import os; os.system('x')\n")
    return buf.getvalue()


def _wheel_bytes(tmp_path: Path, files: dict[str, bytes]) -> bytes:
    out = tmp_path / "wheels"
    out.mkdir(exist_ok=True)
    return make_wheel(out, "x", "1.0", files).read_bytes()


def _good(tmp_path: Path) -> bytes:
    return _wheel_bytes(tmp_path, {"x/__init__.py": b"x = 1\n"})


ZEROS = 64 << 20
NOISE = random.Random(9).randbytes(6000)  # incompressible: a cut really truncates
Builder = Callable[[Path], bytes]

# File name -> how to build it: one hostile archive per attack.
HOSTILE: dict[str, Builder] = {
    "ratio_bomb-1.0-py3-none-any.whl": lambda t: zip_bytes({"x/big.py": b"\0" * ZEROS}),
    "small_members_bomb-1.0-py3-none-any.whl": lambda t: zip_bytes(
        {f"x/m{i}.py": b"\0" * DEFAULT_LIMITS.ratio_floor for i in range(300)}
    ),
    "tar_bomb-1.0.tar.gz": lambda t: _tar(
        [_file("tar_bomb-1.0/zeros.py", b"\0" * ZEROS), _file("tar_bomb-1.0/setup.py", b"x = 1\n")]
    ),
    # A wheel that ships zips is legitimate (data files); the rules never open them, so
    # the only demand is bounded time and no crash (exit 0 allowed).
    "nested-1.0-py3-none-any.whl": lambda t: _wheel_bytes(
        t, {"x/in.whl": nested_zip(40, _good(t))}
    ),
    "nested.pt": lambda t: nested_zip(40, b"\x80\x04N."),
    "traversal-1.0-py3-none-any.whl": lambda t: zip_bytes({"../../evil.py": b"x"}),
    "absolute-1.0.tar.gz": lambda t: _tar([_file("/etc/evil.py", b"x")]),
    "dotdot-1.0.tar.gz": lambda t: _tar([_file("dotdot-1.0/../../evil.py", b"x")]),
    "symlink-1.0.tar.gz": lambda t: _tar(
        [
            _file("symlink-1.0/setup.py", b"x = 1\n"),
            _link("symlink-1.0/passwd", "/etc/passwd", tarfile.SYMTYPE),
            _link("symlink-1.0/up", "../../..", tarfile.SYMTYPE),
        ]
    ),
    "hardlink-1.0.tar.gz": lambda t: _tar(
        [_link("hardlink-1.0/shadow", "/etc/shadow", tarfile.LNKTYPE)]
    ),
    "device-1.0.tar.gz": lambda t: _tar([_device("device-1.0/null")]),
    "truncated-1.0-py3-none-any.whl": lambda t: _good(t)[: len(_good(t)) // 2],
    "corrupt-1.0-py3-none-any.whl": lambda t: _good(t)[:40] + b"\xff" * 40 + _good(t)[80:],
    "truncated-1.0.tar.gz": lambda t: _tar([_file("truncated-1.0/setup.py", NOISE)])[:3000],
    "duplicated-1.0-py3-none-any.whl": lambda t: _duplicated_zip(),
    "collide-1.0-py3-none-any.whl": lambda t: zip_bytes(
        {"x/A.py": b"a = 1\n", "x/a.py": b"b = 2\n"}
    ),
    "many-1.0-py3-none-any.whl": lambda t: many_member_zip(
        t / "many.tmp", DEFAULT_LIMITS.max_members + 1
    ).read_bytes(),
}


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-archives")
    work = tmp_path_factory.mktemp("hostile-work")
    for name, build in HOSTILE.items():
        (root / name).write_bytes(build(work))
    return root


@pytest.mark.usefixtures("every_check")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_archive_via_cli(hostile_dir: Path, tiny_osv: Path, name: str) -> None:
    start = time.perf_counter()
    result = CliRunner().invoke(
        main,
        ["scan", "--db", str(tiny_osv), "--format", "json", str(hostile_dir / name)],
        catch_exceptions=False,
    )
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"{name} took {elapsed:.0f} s"
    allowed = (0, 1, 3) if name.startswith("nested-") else (1, 3)
    assert result.exit_code in allowed, (result.exit_code, result.stdout, result.stderr)
    if result.exit_code == 3:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wormsign: error: "), result.stderr
        assert "internal error" not in lines[0]
        assert result.stdout == ""
    elif result.exit_code == 1:
        assert json.loads(result.stdout)["findings"]


@pytest.mark.parametrize(
    ("name", "rule", "severity"),
    [
        ("collide-1.0-py3-none-any.whl", "WS-INT-005", "medium"),
        ("symlink-1.0.tar.gz", "WS-INT-012", "critical"),
        ("hardlink-1.0.tar.gz", "WS-INT-012", "critical"),
        ("device-1.0.tar.gz", "WS-INT-012", "high"),
    ],
)
def test_links_devices_and_collisions_are_findings(
    hostile_dir: Path, tiny_osv: Path, name: str, rule: str, severity: str
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--db",
            str(tiny_osv),
            "--format",
            "json",
            "--check",
            "integrity",
            str(hostile_dir / name),
        ],
    )
    findings = json.loads(result.stdout)["findings"]
    assert (rule, severity) in {(f["rule_id"], f["severity"]) for f in findings}
