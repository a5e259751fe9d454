"""Integrity pass: installed files against their distribution's RECORD (WS-INT-001, 003,
010, 011) and loose top-level files of site-packages (WS-INT-004).
"""

from __future__ import annotations

import errno
import os
from functools import partial

from scanner.checks.integrity.injected import InjectedPass
from scanner.checks.integrity.state import _HASHLESS_OK, _MAX_EXAMPLES, _EnvState
from scanner.infra.hashing import FileHash, hash_files
from scanner.models import Environment, Finding, InstalledDistribution, RecordEntry, Severity
from scanner.sources.environment import environment_prefix

STARTUP_FILES = frozenset({"sitecustomize.py", "usercustomize.py"})


class RecordPass(InjectedPass):
    """One environment: RECORD hashes and sizes, injected files, loose files."""

    def _check_environment(self, env: Environment) -> _EnvState:
        site = str(env.site_packages)
        prefix = os.path.normpath(str(environment_prefix(env.site_packages)))
        record_paths: list[tuple[InstalledDistribution, dict[str, RecordEntry]]] = []
        owned: set[str] = set()
        walk_roots: set[str] = set()
        unwalkable: set[str] = set()
        wanted: dict[str, tuple[InstalledDistribution, RecordEntry]] = {}
        shared: list[tuple[str, InstalledDistribution, RecordEntry]] = []
        for dist in env.distributions:
            if dist.record is None:
                self.findings.append(_record_problem(dist))
                unwalkable.update(dist.top_level)
                continue
            paths = self._resolve_record(dist, site, prefix)
            record_paths.append((dist, paths))
            owned.update(paths)
            hashless: list[str] = []
            for path, entry in paths.items():
                if entry.sha256 is None and entry.size is None:
                    if dist.metadata_kind == "dist-info" and not entry.path.endswith(_HASHLESS_OK):
                        hashless.append(entry.path)
                elif path in wanted:
                    shared.append((path, dist, entry))  # two RECORDs list one file
                else:
                    wanted[path] = (dist, entry)
            if hashless:
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-003",
                        severity=Severity.LOW,
                        package=dist.name,
                        version=dist.version,
                        path=str(dist.metadata_dir / "RECORD"),
                        message=f"RECORD lists {len(hashless)} file(s) without a hash; "
                        "their contents cannot be verified.",
                        evidence=", ".join(hashless[:_MAX_EXAMPLES]),
                    )
                )
            if dist.metadata_kind == "dist-info":
                walk_roots.add(str(dist.metadata_dir))
            for top in dist.top_level:
                walk_roots.add(site + os.sep + top)
        walk_roots = {r for r in walk_roots if r.rpartition(os.sep)[2] not in unwalkable}
        hashes = hash_files(wanted, self.cache)
        self.files_hashed += sum(1 for r in hashes.values() if not isinstance(r, OSError))
        judge = self._judge_hash
        for path, (dist, entry) in wanted.items():
            result = hashes[path]
            # The common case stays in this loop: a tuple whose digest and size agree.
            if (
                type(result) is tuple
                and result[0] == entry.sha256
                and (entry.size is None or result[1] == entry.size)
            ):
                continue
            judge(dist, entry, path, result)
        for path, dist, entry in shared:
            judge(dist, entry, path, hashes[path])
        self._find_injected(site, walk_roots, owned)
        self._report_loose(env)
        return _EnvState(env=env, hashes=hashes, record_paths=record_paths)

    def _resolve_record(
        self, dist: InstalledDistribution, site: str, prefix: str
    ) -> dict[str, RecordEntry]:
        """Absolute path -> entry for every RECORD entry inside the prefix; report the rest."""
        out: dict[str, RecordEntry] = {}
        assert dist.record is not None
        for entry in dist.record:
            rel = entry.path
            if (
                os.sep == "/"
                and not rel.startswith(("/", "."))
                and "/." not in rel
                and "\\" not in rel
                and "//" not in rel
            ):
                path = site + "/" + rel  # the common case, without normpath's cost
                if path in out:
                    self._duplicate_row(dist, out, path, entry)
                else:
                    out[path] = entry
                continue
            path = os.path.normpath(os.path.join(site, rel.replace("\\", "/")))
            if path != prefix and not path.startswith(prefix + os.sep):
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-003",
                        severity=Severity.CRITICAL,
                        package=dist.name,
                        version=dist.version,
                        path=str(dist.metadata_dir / "RECORD"),
                        message=f"RECORD entry {rel!r} points outside the environment ({prefix}).",
                        evidence=path,
                    )
                )
                continue
            if path in out:
                self._duplicate_row(dist, out, path, entry)
            else:
                out[path] = entry
        return out

    def _duplicate_row(
        self,
        dist: InstalledDistribution,
        out: dict[str, RecordEntry],
        path: str,
        entry: RecordEntry,
    ) -> None:
        """A file RECORD lists twice: the first row with a hash is the one checked (a later
        hashless row must not cancel the check), and the duplicate is reported."""
        first = out[path]
        if first.sha256 is None and entry.sha256 is not None:
            out[path] = entry
        self.findings.append(
            Finding(
                rule_id="WS-INT-003",
                severity=Severity.HIGH,
                package=dist.name,
                version=dist.version,
                path=str(dist.metadata_dir / "RECORD"),
                message=f"RECORD lists {entry.path!r} more than once.",
                evidence=path,
            )
        )

    def _judge_hash(
        self, dist: InstalledDistribution, entry: RecordEntry, path: str, result: FileHash | OSError
    ) -> None:
        new = partial(Finding, package=dist.name, version=dist.version, path=path)
        if isinstance(result, OSError):
            if result.errno in (errno.ENOENT, errno.ENOTDIR):
                self.findings.append(
                    new(
                        rule_id="WS-INT-010",
                        severity=Severity.MEDIUM,
                        message="A file the distribution's RECORD lists is missing.",
                    )
                )
            else:
                self.findings.append(
                    new(
                        rule_id="WS-INT-011",
                        severity=Severity.HIGH,
                        message=f"Installed file cannot be verified: {result.strerror or result}.",
                    )
                )
            return
        digest, size = result
        if (entry.sha256 is not None and digest != entry.sha256) or (
            entry.size is not None and size != entry.size
        ):
            self.findings.append(
                new(
                    rule_id="WS-INT-001",
                    severity=Severity.CRITICAL,
                    message="Installed file differs from the hash in its distribution's RECORD.",
                    evidence=f"RECORD sha256={entry.sha256} size={entry.size}; "
                    f"file sha256={digest} size={size}",
                    fix=f"reinstall {dist.name}=={dist.version} from a trusted source",
                )
            )

    def _report_loose(self, env: Environment) -> None:
        for path in env.loose_files:
            name = path.name
            if name.endswith(".pth") or name in STARTUP_FILES:
                severity = Severity.MEDIUM
                message = (
                    "Startup file (Python runs it at every start) that belongs to no "
                    "installed distribution."
                )
            else:
                severity = Severity.LOW
                message = "Top-level file or directory that belongs to no installed distribution."
            self.findings.append(
                Finding(rule_id="WS-INT-004", severity=severity, path=str(path), message=message)
            )


def _record_problem(dist: InstalledDistribution) -> Finding:
    egg = dist.metadata_kind == "egg-info"
    return Finding(
        rule_id="WS-INT-003",
        severity=Severity.MEDIUM if egg else Severity.HIGH,
        package=dist.name,
        version=dist.version,
        path=str(dist.metadata_dir),
        message=(dist.record_error or "RECORD is missing") + "; installed files are not verified.",
        fix=f"reinstall {dist.name}=={dist.version} with pip",
    )
