"""Integrity: is every installed file, wheel and locked artifact the thing it claims to be?

Rule ids (stable; ignores name them):

- WS-INT-001 (critical) an installed file's sha256 or size differs from its RECORD.
- WS-INT-002 a file inside a distribution's own directories that no RECORD lists
  (injected): critical for code (`.py .pyc .pyw .pth .so .pyd .dylib .dll`, any
  executable, any symbolic link), critical for an unlisted `entry_points.txt` in a
  `.dist-info` (plugins load it), high for anything else. Bytecode in
  `__pycache__` is tolerated while its source exists next to it (Python writes it
  at import time and never lists it); orphaned bytecode there is low (Python never
  loads it without its source). `INSTALLER`, `REQUESTED` and `direct_url.json` in a
  `.dist-info` are tolerated (installers other than pip add them unlisted).
- WS-INT-003 RECORD missing or unparsable (high; medium for an `.egg-info` that lists
  no files, which cannot be verified at all), a RECORD entry that points outside
  the environment's prefix (critical), hashless entries for files that should
  have a hash (low), a file listed twice (high; the first row with a hash is checked).
- WS-INT-004 a top-level entry of site-packages that belongs to no distribution:
  medium for `.pth`, `sitecustomize.py`, `usercustomize.py`; low otherwise. Whether
  a `.pth` executes code is the rules' judgement, not this check's.
- WS-INT-005 a wheel's members vs its own RECORD: a member whose hash or size
  differs (critical), a member RECORD does not list (critical for code, high
  otherwise), no or an unparsable RECORD (high), a listed member that is absent
  (medium), a link or device member (high).
- WS-INT-006 (critical) an artifact's bytes differ from the hashes a lock pins for it
  (artifacts from `--wheelhouse` directories, next to the lock file, or given as
  targets, matched by file name).
- WS-INT-007 (high) an installed distribution that no lock pins at the installed
  version (low for the bootstrap tools pip, setuptools, wheel).
- WS-INT-008 (medium) a locked package whose markers apply to the environment but
  that is not installed.
- WS-INT-009 installed files vs the RECORD inside the locked wheel, used only once
  that wheel's bytes match the lock's hash: a file whose hash differs (critical),
  a file the installed RECORD lists that the wheel does not contain (critical for
  code, high otherwise), a file of the wheel that is not installed (medium); info
  when the locked wheel could not be fetched. This catches an attacker who edits a
  file and rewrites the installed RECORD. The wheel comes from the artifacts at
  hand (targets, `--wheelhouse`, next to the lock) or, only with `online`, from the
  URL the lock names or the lock's index (PEP 691 JSON), kept under the cache
  directory by sha256. Scripts (`.data/scripts`, shebang rewritten by pip) and
  headers are not compared.
- WS-INT-010 (medium) a file RECORD lists is missing.
- WS-INT-011 (high) a file or directory that cannot be verified: unreadable, a
  symbolic link where RECORD lists a file, not a regular file, a directory that
  cannot be listed.
- WS-INT-012 an sdist member that is a link or device (high; critical for a link
  pointing outside the archive), two sdist members whose names differ only in case
  or Unicode form (medium; for wheels the same is WS-INT-005, medium).

One module per pass, composed here: record.py (installed files vs RECORD, loose files),
injected.py (files no RECORD lists), lock.py (artifacts vs lock hashes, environment vs
lock), wheels.py (installed files vs the locked wheel), archives.py (a wheel's own RECORD,
sdist members); state.py holds what they share.

Directories a distribution without a RECORD claims (egg-info `top_level.txt`) are
not searched for injected files, even when they are shared with other
distributions (namespace packages): their files cannot be told from injected ones.

Compiled bytecode is never verified against its source: a crafted `.pyc` with a
header matching its source would be loaded by Python instead of the source.
`PYTHONDONTWRITEBYTECODE` / `python -B` plus removing `__pycache__` closes that gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.checks.integrity.archives import check_sdist_members, check_wheel_record
from scanner.checks.integrity.lock import LockPass
from scanner.checks.integrity.record import RecordPass
from scanner.checks.integrity.wheels import LockedWheelPass
from scanner.checks.interface import FILES_HASHED, CheckContext, CheckResult
from scanner.infra.hash_cache import open_cache
from scanner.models import Finding, Inventory
from scanner.options import ScanOptions


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    """The integrity check's findings and how many files it verified by hash."""

    findings: tuple[Finding, ...]
    files_hashed: int


def check_integrity(inventory: Inventory, context: CheckContext) -> CheckResult:
    """The integrity check: its findings, and how many installed files RECORD lets it
    verify (`count_hashable`, the report's `files_hashed`)."""
    findings = run_integrity(inventory, context.options).findings
    return CheckResult(findings=findings, counters=((FILES_HASHED, count_hashable(inventory)),))


def run_integrity(inventory: Inventory, options: ScanOptions) -> IntegrityResult:
    """Run every integrity rule over the inventory."""
    cache = open_cache(options)
    try:
        run = _Run(inventory, options, cache)
        run.execute()
        return IntegrityResult(findings=tuple(run.findings), files_hashed=run.files_hashed)
    finally:
        if cache is not None:
            cache.close()


@dataclass
class _Run(RecordPass, LockPass, LockedWheelPass):
    """The passes, composed in the order they depend on each other."""

    def execute(self) -> None:
        for env in self.inventory.environments:
            self.env_states.append(self._check_environment(env))
        for dist_file in self.inventory.distribution_files:
            if dist_file.kind == "wheel":
                self.findings.extend(check_wheel_record(dist_file.path))
            else:
                self.findings.extend(check_sdist_members(dist_file.path))
        if self.inventory.lockfiles:
            artifacts = self._artifacts_at_hand()
            self._check_lock_hashes(artifacts)
            if self.inventory.environments:
                self._check_env_vs_lock()
                artifacts += self._fetch_locked_wheels(artifacts)
                self._check_env_vs_locked_wheels(artifacts)


def count_hashable(inventory: Inventory) -> int:
    """How many installed files RECORD gives a hash or size for (an upper bound of the work)."""
    return sum(
        1
        for dist in inventory.installed
        for e in dist.record or ()
        if e.sha256 is not None or e.size is not None
    )


__all__ = [
    "IntegrityResult",
    "check_integrity",
    "check_sdist_members",
    "check_wheel_record",
    "count_hashable",
    "run_integrity",
]
