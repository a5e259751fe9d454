"""Real wheels for tests, built without any build backend, and installed like pip would.

`make_wheel(tmp_path, name, version, files)` writes a wheel zip with METADATA,
WHEEL and a correct RECORD. `install_wheel(wheel, site_packages)` unpacks it the
way pip does: root and `.data/purelib|platlib` into site-packages, `.data/scripts`
into the prefix's `bin`, `.data/data` into the prefix, then writes INSTALLER and a
RECORD whose paths are relative to site-packages.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

FileContent = bytes | str


def record_hash(data: bytes) -> str:
    """The `sha256=<urlsafe b64, no padding>` form RECORD uses."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def wheel_name_part(name: str) -> str:
    """The distribution name as wheel file names spell it."""
    return re.sub(r"[-_.]+", "_", name)


def _as_bytes(content: FileContent) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def make_wheel(
    tmp_path: Path,
    name: str,
    version: str,
    files: Mapping[str, FileContent],
    *,
    tag: str = "py3-none-any",
    metadata_extra: str = "",
    dist_info_files: Mapping[str, FileContent] | None = None,
) -> Path:
    """Write `<name>-<version>-<tag>.whl` in `tmp_path` and return its path.

    `files` maps archive paths (`pkg/__init__.py`, `<name>-<version>.data/scripts/x`)
    to their content. `dist_info_files` adds files to the `.dist-info` directory
    (`entry_points.txt` ...). METADATA, WHEEL and RECORD are always written.
    """
    base = f"{wheel_name_part(name)}-{version}"
    dist_info = f"{base}.dist-info"
    members: dict[str, bytes] = {path: _as_bytes(data) for path, data in files.items()}
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Summary: test package {name}\n{metadata_extra}"
    ).encode()
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: wormsign-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    for rel, data in (dist_info_files or {}).items():
        members[f"{dist_info}/{rel}"] = _as_bytes(data)
    record_path = f"{dist_info}/RECORD"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in members.items():
        writer.writerow([path, record_hash(data), len(data)])
    writer.writerow([record_path, "", ""])
    members[record_path] = out.getvalue().encode()
    wheel = tmp_path / f"{base}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in members.items():
            zf.writestr(path, data)
    return wheel


def install_wheel(
    wheel: Path,
    site_packages: Path,
    *,
    installer: str = "pip",
    prefix: Path | None = None,
) -> Path:
    """Unpack `wheel` into `site_packages` like pip; return the `.dist-info` directory.

    `prefix` (for scripts and data files) defaults to three levels above
    site-packages (`<prefix>/lib/pythonX.Y/site-packages`).
    """
    prefix = prefix if prefix is not None else site_packages.parents[2]
    site_packages.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    dist_info: str | None = None

    def rel_to_site(target: Path) -> str:
        # RECORD paths are relative to site-packages, with ../ for files outside it.
        parts_site = site_packages.resolve().parts
        parts_target = target.resolve().parts
        common = 0
        while (
            common < min(len(parts_site), len(parts_target))
            and parts_site[common] == parts_target[common]
        ):
            common += 1
        up = [".."] * (len(parts_site) - common)
        return "/".join([*up, *parts_target[common:]])

    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            top, _, rest = name.partition("/")
            if top.endswith(".dist-info"):
                dist_info = top
                if rest == "RECORD":
                    continue
            data = zf.read(info)
            if top.endswith(".data"):
                scheme, _, inner = rest.partition("/")
                if scheme in ("purelib", "platlib"):
                    target = site_packages / inner
                elif scheme == "scripts":
                    target = prefix / "bin" / inner
                elif scheme == "data":
                    target = prefix / inner
                else:
                    target = prefix / "include" / "site" / inner
            else:
                target = site_packages / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if scheme_is_script(top, rest):
                target.chmod(0o755)
            rows.append((rel_to_site(target), record_hash(data), str(len(data))))
    if dist_info is None:
        raise ValueError(f"{wheel}: no .dist-info directory")
    installer_bytes = f"{installer}\n".encode()
    (site_packages / dist_info / "INSTALLER").write_bytes(installer_bytes)
    rows.append((f"{dist_info}/INSTALLER", record_hash(installer_bytes), str(len(installer_bytes))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    (site_packages / dist_info / "RECORD").write_text(out.getvalue(), encoding="utf-8")
    return site_packages / dist_info


def scheme_is_script(top: str, rest: str) -> bool:
    """True for members pip installs as executables (`<name>.data/scripts/...`)."""
    return top.endswith(".data") and rest.startswith("scripts/")


def make_site_packages(root: Path, python_version: str = "3.11") -> Path:
    """Create `<root>/lib/python<ver>/site-packages` and a pyvenv.cfg, return site-packages."""
    site = root / "lib" / f"python{python_version}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (root / "bin").mkdir(exist_ok=True)
    (root / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python_version}.0\n",
        encoding="utf-8",
    )
    return site


def refresh_record(dist_info: Path) -> None:
    """Rewrite an installed RECORD so every listed file matches its current bytes.

    This is what an attacker who edits an installed file and covers their tracks does.
    """
    site_packages = dist_info.parent
    record = dist_info / "RECORD"
    rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        path = row[0]
        target = site_packages / path
        if path.endswith("RECORD") or not target.is_file():
            writer.writerow(row)
            continue
        data = target.read_bytes()
        writer.writerow([path, record_hash(data), len(data)])
    record.write_text(out.getvalue(), encoding="utf-8")
