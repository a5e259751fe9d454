"""Packaging tools' launcher stubs are recognised by place, structure and content (never by
the package carrying them); a PE that differs in any of these is still WS-BIN material."""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

import pytest

from scanner.checks.heuristics.check import match_binary, view_of_files
from scanner.checks.heuristics.launchers import catalogue, parse_pe, script_launcher
from scanner.checks.heuristics.rules import BinaryMatcher, load_rules

DISTLIB_MARKS = (b"Unable to find an appended archive.", b"Failed to find shebang")
SETUPTOOLS_MARKS = (b"-script.py", b"#!python.exe", b"Cannot find Python executable %s")
DISTLIB_DLLS = ("KERNEL32.dll", "SHLWAPI.dll")


def make_pe(dlls: tuple[str, ...], strings: tuple[bytes, ...], overlay: bytes = b"") -> bytes:
    """A minimal well-formed PE32+ (x64): one section holding an import table for `dlls`
    and the `strings`, then `overlay` after the section. Built by hand, never run."""
    va, raw_ptr = 0x1000, 0x200
    descriptors = b""
    names = b""
    names_at = 20 * (len(dlls) + 1)
    for dll in dlls:
        descriptors += struct.pack("<IIIII", 0, 0, 0, va + names_at + len(names), 0)
        names += dll.encode() + b"\0"
    body = descriptors + b"\0" * 20 + names + b"\0".join(strings) + b"\0"
    body += b"\0" * (-len(body) % 0x200)
    opt = bytearray(240)
    struct.pack_into("<H", opt, 0, 0x20B)
    struct.pack_into("<I", opt, 108, 16)
    struct.pack_into("<II", opt, 112 + 8, va, 20 * (len(dlls) + 1))
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, len(opt), 0x22)
    section = struct.pack("<8sIIII", b".text", len(body), va, len(body), raw_ptr) + b"\0" * 16
    head = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40) + b"PE\0\0" + coff + bytes(opt) + section
    return head + b"\0" * (raw_ptr - len(head)) + body + overlay


def _script_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("__main__.py", "import sys\nfrom pip._internal.cli.main import main\n")
    return buf.getvalue()


DISTLIB_STUB = make_pe(DISTLIB_DLLS, DISTLIB_MARKS)


def test_parse_pe_reads_imports_and_section_end() -> None:
    layout = parse_pe(DISTLIB_STUB)
    assert layout is not None
    assert layout.imports == ("kernel32.dll", "shlwapi.dll")
    assert layout.end_of_sections == len(DISTLIB_STUB)
    assert parse_pe(b"MZ" + b"\xff" * 100) is None
    assert parse_pe(DISTLIB_STUB[:300]) is None


def test_launcher_shapes_are_recognised() -> None:
    launchers = catalogue()
    assert script_launcher("pip/_vendor/distlib/t64.exe", DISTLIB_STUB, launchers)
    assert script_launcher("distlib/w64-arm.exe", DISTLIB_STUB, launchers)
    # distlib appends `#!python` and a zip holding __main__.py to make a script's .exe
    with_script = make_pe(
        DISTLIB_DLLS, DISTLIB_MARKS, b"#!C:\\Python\\python.exe\n" + _script_zip()
    )
    assert script_launcher("distlib/t64.exe", with_script, launchers)
    setuptools_stub = make_pe(("KERNEL32.dll", "api-ms-win-crt-heap-l1-1-0.dll"), SETUPTOOLS_MARKS)
    assert script_launcher("setuptools/cli-arm64.exe", setuptools_stub, launchers)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        # the same bytes where no tool documents a launcher, or under another name
        ("mypkg/t64.exe", DISTLIB_STUB),
        ("distlib/update.exe", DISTLIB_STUB),
        ("setuptools/t64.exe", DISTLIB_STUB),
        # a launcher's place and messages, but it imports the network / registry API
        ("distlib/t64.exe", make_pe((*DISTLIB_DLLS, "WS2_32.dll"), DISTLIB_MARKS)),
        ("distlib/t64.exe", make_pe((*DISTLIB_DLLS, "ADVAPI32.dll"), DISTLIB_MARKS)),
        # not the tool's messages
        ("distlib/t64.exe", make_pe(DISTLIB_DLLS, (b"hello",))),
        # something appended that is not the tool's shebang + __main__.py zip
        ("distlib/t64.exe", make_pe(DISTLIB_DLLS, DISTLIB_MARKS, b"MZ" + b"\x90" * 4000)),
        ("distlib/t64.exe", make_pe(DISTLIB_DLLS, DISTLIB_MARKS, b"#!python\n" + b"PK\3\4junk")),
        # setuptools appends nothing to its stubs
        (
            "setuptools/cli-64.exe",
            make_pe(("KERNEL32.dll",), SETUPTOOLS_MARKS, b"#!python\n" + _script_zip()),
        ),
        # not a PE at all
        ("distlib/t64.exe", b"MZ" + DISTLIB_MARKS[0]),
    ],
)
def test_anything_else_is_no_launcher(path: str, data: bytes) -> None:
    assert script_launcher(path, data, catalogue()) is None


def test_setuptools_arm64_stubs_are_recognised_up_to_the_size_bound() -> None:
    # setuptools 65.5's cli-arm64.exe is 137,216 bytes: a statically linked CRT
    dlls = ("KERNEL32.dll",)
    arm64_sized = make_pe(dlls, (*SETUPTOOLS_MARKS, b"c" * 137_000))
    assert script_launcher("setuptools/cli-arm64.exe", arm64_sized, catalogue())
    # past the bound it is judged by WS-BIN, however launcher-like it looks
    oversized = make_pe(dlls, (*SETUPTOOLS_MARKS, b"c" * 300_000))
    assert script_launcher("setuptools/cli-arm64.exe", oversized, catalogue()) is None
    # the same size with a network import is no launcher
    networked = make_pe((*dlls, "WS2_32.dll"), (*SETUPTOOLS_MARKS, b"c" * 137_000))
    assert script_launcher("setuptools/cli-arm64.exe", networked, catalogue()) is None


def test_real_launchers_of_this_environment_are_recognised() -> None:
    rels = ("pip/_vendor/distlib/t64.exe", "setuptools/cli-64.exe")
    found = [
        (rel, (Path(entry) / rel).read_bytes())
        for entry in sys.path
        for rel in rels
        if (Path(entry) / rel).is_file()
    ]
    if not found:
        pytest.skip("no pip or setuptools launcher installed on sys.path")
    for rel, data in found:
        assert script_launcher(rel, data, catalogue()), rel


def test_binary_rules_skip_launchers_and_keep_droppers() -> None:
    matchers = [r.matcher for r in load_rules() if isinstance(r.matcher, BinaryMatcher)]
    dropper = make_pe(("KERNEL32.dll", "WININET.dll"), (b"http://evil.invalid/x",))
    view = view_of_files(
        [
            ("pip/_vendor/distlib/t64.exe", DISTLIB_STUB),
            ("pip/_vendor/distlib/w64.exe", dropper),
            ("mypkg/update.exe", DISTLIB_STUB),
        ],
        kind="wheel",
    )
    paths = {m.path for matcher in matchers for m in match_binary(matcher, view)}
    assert "pip/_vendor/distlib/t64.exe" not in paths
    assert {"pip/_vendor/distlib/w64.exe", "mypkg/update.exe"} <= paths
