"""Integrity pass over distribution files themselves: a wheel's members against its own
RECORD (WS-INT-005), an sdist's members (WS-INT-012).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

from scanner.checks.integrity.state import _MAX_EXAMPLES, _is_code, _parse_artifact_name
from scanner.infra.archive import Member, SafeArchive
from scanner.models import Finding, Severity, canonical
from scanner.sources.environment import parse_record


def _wheel_record_name(members: Iterable[Member], metadata_dir: str | None) -> str | None:
    records = [
        m.name
        for m in members
        if m.kind == "file" and m.name.count("/") == 1 and m.name.endswith(".dist-info/RECORD")
    ]
    if metadata_dir is not None and f"{metadata_dir}/RECORD" in records:
        return f"{metadata_dir}/RECORD"
    return records[0] if len(records) == 1 else None


def check_wheel_record(wheel: Path) -> Iterator[Finding]:
    """WS-INT-005: every member of a wheel against the RECORD inside it."""
    name, version, _kind = _parse_artifact_name(wheel.name)
    new = partial(Finding, package=name, version=version)
    with SafeArchive(wheel) as archive:
        members = archive.members()
        yield from _collision_findings(archive, wheel, "WS-INT-005", new)
        expected_dir = None
        if name and version:
            matching = [
                m.name.split("/", 1)[0]
                for m in members
                if m.name.count("/") == 1
                and m.name.endswith(".dist-info/RECORD")
                and canonical(m.name.split("/", 1)[0].rsplit("-", 1)[0]) == name
            ]
            expected_dir = matching[0] if len(matching) == 1 else None
        record_name = _wheel_record_name(members, expected_dir)
        if record_name is None:
            yield new(
                rule_id="WS-INT-005",
                severity=Severity.HIGH,
                path=str(wheel),
                message="Wheel has no single .dist-info/RECORD; its members cannot be verified.",
            )
            return
        try:
            record = parse_record(archive.read(record_name).decode("utf-8", "replace"))
        except ValueError as err:
            yield new(
                rule_id="WS-INT-005",
                severity=Severity.HIGH,
                path=f"{wheel}!{record_name}",
                message=f"Wheel RECORD is malformed: {err}.",
            )
            return
        listed = {posixpath.normpath(e.path): e for e in record}
        signature_files = {record_name, record_name + ".jws", record_name + ".p7s"}
        for member in members:
            where = f"{wheel}!{member.name}"
            if member.kind == "dir":
                continue
            if member.kind != "file":
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.HIGH,
                    path=where,
                    message=f"Wheel member is a {member.kind}, which pip would not "
                    "install as listed.",
                )
                continue
            if member.name in signature_files:
                continue
            entry = listed.get(member.name)
            if entry is None:
                code = _is_code(member.name, None)
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.CRITICAL if code else Severity.HIGH,
                    path=where,
                    message="Wheel member is not listed in the wheel's RECORD.",
                )
                continue
            digest = hashlib.sha256()
            size = 0
            for chunk in archive.iter_chunks(member.name):
                digest.update(chunk)
                size += len(chunk)
            if (entry.sha256 is not None and digest.hexdigest() != entry.sha256) or (
                entry.size is not None and entry.size != size
            ):
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.CRITICAL,
                    path=where,
                    message="Wheel member differs from the hash in the wheel's RECORD.",
                    evidence=f"RECORD sha256={entry.sha256} size={entry.size}; "
                    f"member sha256={digest.hexdigest()} size={size}",
                )
        present = {m.name for m in members}
        for path in listed:
            if path not in present and path not in signature_files:
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.MEDIUM,
                    path=f"{wheel}!{path}",
                    message="RECORD lists a member the wheel does not contain.",
                )


def check_sdist_members(sdist: Path) -> Iterator[Finding]:
    """WS-INT-012: links, devices and colliding names inside an sdist.

    Nothing in a source tree needs a device node, and a link that points outside the
    tree (absolute, or up through `..`) reaches into the machine that builds it.
    """
    name, version, _kind = _parse_artifact_name(sdist.name)
    new = partial(Finding, package=name, version=version)
    with SafeArchive(sdist) as archive:
        yield from _collision_findings(archive, sdist, "WS-INT-012", new)
        for member in archive.members():
            if member.kind in ("file", "dir"):
                continue
            where = f"{sdist}!{member.name}"
            target = member.link_target or ""
            base = posixpath.dirname(member.name) if member.kind == "symlink" else ""
            escapes = target.startswith("/") or posixpath.normpath(
                posixpath.join(base, target)
            ).startswith("..")
            what = (
                "a device or special file"
                if member.kind == "other"
                else (
                    f"a {member.kind} to {target!r}" + (", outside the archive" if escapes else "")
                )
            )
            yield new(
                rule_id="WS-INT-012",
                severity=Severity.CRITICAL if escapes else Severity.HIGH,
                path=where,
                message=f"Sdist member is {what}.",
            )


def _collision_findings(
    archive: SafeArchive, path: Path, rule_id: str, new: partial[Finding]
) -> Iterator[Finding]:
    for first, second in archive.name_collisions[:_MAX_EXAMPLES]:
        yield new(
            rule_id=rule_id,
            severity=Severity.MEDIUM,
            path=f"{path}!{second}",
            message="Two members differ only in case or Unicode form; on macOS and "
            "Windows one overwrites the other when installed.",
            evidence=f"{first!r} and {second!r}",
        )
