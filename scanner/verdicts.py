"""Content verdicts: what a check decides from bytes alone, and the key it is stored under.

Most of a scan's cost is judging contents (the heuristic rules over a distribution's files,
pickle walks of model files), and that judgement depends only on the bytes and on what
decides it: the rules, the engine's code, allowlists. So it is a pure function whose
result, a `Verdict`, is keyed by

    sha256(schema, kind, sha256 of the content, fingerprint, parameters)

- the *content* is one blob (a model file, a wheel, one source file) or a manifest of
  blobs (an installed distribution's files, by path and sha256: `manifest_digest`);
- the *fingerprint* (`fingerprint`) digests the wormsign version, its own source code,
  every file under `rules/` and any verdict-relevant setting (a user allowlist);
- the *parameters* are the few facts beside the bytes that the function reads (a wheel's
  file name, whether a source file runs at install time).

A verdict names places only relative to its content (`ContentFinding.member`), never
where the content was found, so one verdict serves every copy of the same bytes. What
depends on context — advisories by name and version, integrity against RECORD or a lock,
provenance, a vulnerable torch beside a pickle — stays outside and is recomputed each run.

Only complete judgements become verdicts: a check that hit an error, a timeout or a
partial read has no verdict to store (`Verdict.complete` is False and the store refuses it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scanner import __version__
from scanner.infra.resources import rules_dir
from scanner.models import Finding, Severity

SCHEMA = 1
"""Bump when the shape of a verdict or of its key changes."""

_SOURCE_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class ContentFinding:
    """A finding as the content alone decides it: places are inside the content."""

    rule_id: str
    severity: Severity
    message: str
    member: str | None = None
    """Path inside the content (archive member, distribution file); None: the content itself."""
    line: int | None = None
    evidence: str | None = None
    references: tuple[str, ...] = ()
    fix: str | None = None

    def to_finding(
        self, path: str | None, *, package: str | None = None, version: str | None = None
    ) -> Finding:
        """The finding in context: `path` is where this content was found."""
        return Finding(
            rule_id=self.rule_id,
            severity=self.severity,
            message=self.message,
            package=package,
            version=version,
            path=path,
            line=self.line,
            evidence=self.evidence,
            references=self.references,
            fix=self.fix,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything one check decided about one content, and whether it is whole."""

    kind: str
    """Which judgement: `heuristics`, `models`, `pyast` ..."""
    findings: tuple[ContentFinding, ...] = ()
    complete: bool = True
    """False when an error, a timeout or a partial read cut the judgement short: such a
    verdict is used for this run only and never stored."""
    payload: str | None = None
    """A judgement that is not (yet) findings, as JSON (a source file's signals)."""

    def to_json(self) -> str:
        """Canonical JSON: equal verdicts give equal text."""
        return json.dumps(
            {
                "schema": SCHEMA,
                "kind": self.kind,
                "complete": self.complete,
                "payload": self.payload,
                "findings": [
                    [
                        f.rule_id,
                        int(f.severity),
                        f.message,
                        f.member,
                        f.line,
                        f.evidence,
                        list(f.references),
                        f.fix,
                    ]
                    for f in self.findings
                ],
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        """The verdict `to_json` wrote; ValueError for anything else (a corrupt store)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError("not a verdict of this schema")
            findings = tuple(_finding_from_row(row) for row in data["findings"])
            kind, complete, payload = data["kind"], data["complete"], data["payload"]
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"malformed verdict: {err}") from err
        if not isinstance(kind, str) or not isinstance(complete, bool):
            raise ValueError("malformed verdict: kind or complete")
        if payload is not None and not isinstance(payload, str):
            raise ValueError("malformed verdict: payload")
        return cls(kind=kind, findings=findings, complete=complete, payload=payload)


def _opt_str(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"malformed verdict: {value!r} is not text")
    return value


def _finding_from_row(row: object) -> ContentFinding:
    if not isinstance(row, list) or len(row) != 8:
        raise ValueError("malformed verdict: a finding row")
    rule_id, severity, message, member, line, evidence, references, fix = row
    if not isinstance(rule_id, str) or not isinstance(message, str):
        raise ValueError("malformed verdict: rule id or message")
    if not isinstance(severity, int) or isinstance(severity, bool):
        raise ValueError("malformed verdict: severity")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
        raise ValueError("malformed verdict: line")
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise ValueError("malformed verdict: references")
    return ContentFinding(
        rule_id=rule_id,
        severity=Severity(severity),
        message=message,
        member=_opt_str(member),
        line=line,
        evidence=_opt_str(evidence),
        references=tuple(references),
        fix=_opt_str(fix),
    )


# -- keys ------------------------------------------------------------------------------------


def content_digest(data: bytes) -> str:
    """sha256 (hex) of one blob."""
    return hashlib.sha256(data).hexdigest()


def manifest_digest(entries: Iterable[tuple[str, str, int]]) -> str:
    """sha256 (hex) of a set of named blobs: (path, sha256 hex, size) each, in any order."""
    rows = sorted(entries)
    return hashlib.sha256(
        json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def _digest_tree(root: Path, suffixes: tuple[str, ...] | None) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or (suffixes is not None and not path.name.endswith(suffixes)):
            continue
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _static_fingerprint(rules: Path) -> str:
    """Version, engine source and rule files: read once per process (a few ms)."""
    digest = hashlib.sha256(f"wormsign {__version__} schema {SCHEMA}\0".encode())
    digest.update(_digest_tree(_SOURCE_ROOT, (".py",)).encode())
    digest.update(_digest_tree(rules, None).encode())
    return digest.hexdigest()


def fingerprint(
    settings: Mapping[str, object] | None = None, *, rules_directory: Path | None = None
) -> str:
    """What decides a verdict besides the bytes: wormsign's version and code, every file under
    the rules directory (rules, allowlists, catalogues) and `settings` (verdict-relevant
    configuration, JSON-serialisable)."""
    base = _static_fingerprint((rules_directory or rules_dir()).resolve())
    if not settings:
        return base
    extra = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{base}\0{extra}".encode()).hexdigest()


def verdict_key(
    kind: str,
    content_sha256: str,
    fingerprint_digest: str,
    params: Mapping[str, object] | None = None,
) -> str:
    """The key of the verdict `kind` on a content under a fingerprint (hex sha256)."""
    material = json.dumps(
        [SCHEMA, kind, content_sha256, fingerprint_digest, params or {}],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()
