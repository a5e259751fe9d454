"""SARIF 2.1.0 for code scanning (GitHub and any other SARIF consumer).

One run, one result per finding, one rule per rule id seen: a catalogue rule carries the
catalogue's title, description and references (scanner.catalog); an advisory finding
(WS-ADV-VULN / WS-ADV-MAL) is reported under its advisory's id, one rule per advisory
with that advisory's summary, affected pins and fixes, as osv-scanner does. Locations
are relative URIs: to %SRCROOT% (the working directory) for the repository's files, to
a %SITEPACKAGES% base for an environment's. Findings the config's ignores and allows set
aside are results too, with an external suppression whose justification is the entry's
reason, so code scanning dismisses their alerts instead of closing them as fixed.
GitHub rejects a whole upload when any
result lacks a location, so a finding without a path is anchored at the scan target it
came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from scanner import __version__
from scanner.catalog import CatalogRule, default_catalog, one_line
from scanner.errors import RuleError
from scanner.models import Finding, Report, Severity, Suppression
from scanner.reporters.markdown import md_escape
from scanner.reporters.text import safe_text

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/wormsign/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "wormsign/v1"

# GitHub ranks alerts by `security-severity` (CVSS-like: >= 9 critical, 7-8.9 high,
# 4-6.9 medium, 0.1-3.9 low). CodeQL writes it as a string holding a number; so do we.
SECURITY_SEVERITY: dict[Severity, float] = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}


def sarif_level(severity: Severity) -> str:
    """SARIF `level`: error blocks by default, warning is worth a look, note is context."""
    if severity >= Severity.HIGH:
        return "error"
    if severity is Severity.MEDIUM:
        return "warning"
    return "note"


SITE_DIRS = frozenset({"site-packages", "dist-packages"})
SITE_BASE = "%SITEPACKAGES%"
"""The base of the first environment's site-packages; more get `%SITEPACKAGES_2%` ..."""


class Bases:
    """The `originalUriBaseIds` of a run: the repository (%SRCROOT%) and every
    site-packages directory a finding lies in, so that no location needs an absolute URI
    that code scanning cannot place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sites: dict[Path, str] = {}

    def site_of(self, path: Path) -> Path | None:
        """The site-packages directory `path` lies in, if any."""
        parts = path.parts
        for i in range(len(parts) - 1, 0, -1):
            if parts[i] in SITE_DIRS:
                return Path(*parts[: i + 1])
        return None

    def base_id(self, site: Path) -> str:
        """The base id of one site-packages directory, in order of first use."""
        if site not in self.sites:
            n = len(self.sites) + 1
            self.sites[site] = SITE_BASE if n == 1 else f"%SITEPACKAGES_{n}%"
        return self.sites[site]

    def original_uri_base_ids(self) -> dict[str, Any]:
        """The run's `originalUriBaseIds`."""
        out: dict[str, Any] = {
            SRCROOT: {
                "uri": _dir_uri(self.root),
                "description": {"text": "The directory wormsign was run in (the repository)."},
            }
        }
        for site, base in self.sites.items():
            out[base] = {
                "uri": _dir_uri(site),
                "description": {"text": "site-packages of a scanned environment."},
            }
        return out


def _dir_uri(path: Path) -> str:
    return path.as_uri().rstrip("/") + "/"


def artifact_location(path: str, root: Path, bases: Bases | None = None) -> dict[str, str]:
    """An artifactLocation: relative to the site-packages it lies in (an environment's
    file), else to `root` (%SRCROOT%) when inside it, else a file URI."""
    bases = bases if bases is not None else Bases(root)
    p = Path(os.path.normpath(root / path))  # an absolute `path` stays itself
    site = bases.site_of(p)
    if site is not None and p != site:
        rel = PurePosixPath(*p.relative_to(site).parts)
        return {"uri": _quote(rel.as_posix()), "uriBaseId": bases.base_id(site)}
    try:
        rel = PurePosixPath(*p.relative_to(root).parts)
    except ValueError:
        return {"uri": p.as_uri()}
    return {"uri": _quote(rel.as_posix() or "."), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    """Percent-encode a path for a URI. A non-UTF-8 file name arrives as lone surrogates
    (os.fsdecode): its original bytes are encoded (%FF), not a UnicodeEncodeError."""
    return quote(path, safe="/", errors="surrogateescape")


def fingerprint(f: Finding, uri: str) -> str:
    """Stable across runs and machines: what was found, in which package, where."""
    parts = (f.rule_id, f.package or "", f.version or "", uri, f.message)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _anchor(f: Finding, report: Report) -> str:
    """Where a result is shown: its path, else the first target (GitHub needs one)."""
    if f.path:
        return f.path
    return report.targets[0] if report.targets else "."


# -- rules: one per catalogue rule, one per advisory -----------------------------------------

ADVISORY_RULES = frozenset({"WS-ADV-VULN", "WS-ADV-MAL"})
"""Findings of these rules are reported under their advisory's id, one SARIF rule each
(as osv-scanner does): the alert names the advisory, its help is that advisory's."""
OSV_URL = "https://osv.dev/vulnerability/"
MAX_HELP_ITEMS = 10


def advisory_id(f: Finding) -> str | None:
    """The primary advisory id of an advisory finding (its first reference)."""
    if f.rule_id not in ADVISORY_RULES or not f.references:
        return None
    first = f.references[0]
    return None if "://" in first or not first.strip() else first


def sarif_rule_id(f: Finding) -> str:
    """The SARIF ruleId of a finding: its advisory id, else its rule id."""
    return advisory_id(f) or f.rule_id


def _advisory_summary(f: Finding, adv: str) -> str:
    """The advisory's summary: what the advisories check wrote after `<id>: `."""
    _, sep, tail = f.message.partition(f"{adv}: ")
    summary = tail.removesuffix(")") if sep else f.message
    return safe_text(summary.strip()) or "no summary"


def _properties(
    findings: list[Finding], precision: str, tags: list[str]
) -> tuple[Severity, dict[str, Any]]:
    worst = max(f.severity for f in findings)
    return worst, {
        # GitHub ranks a rule's alerts by the worst finding it was seen with
        "security-severity": f"{SECURITY_SEVERITY[worst]:.1f}",
        "precision": precision,
        "tags": ["security", "supply-chain", *tags],
    }


def _references(findings: list[Finding]) -> list[str]:
    refs = dict.fromkeys(r for f in findings for r in f.references)
    return [safe_text(r) for r in refs][: MAX_HELP_ITEMS * 2]


def _advisory_rule(
    adv: str, findings: list[Finding], wormsign_rule: CatalogRule | None
) -> dict[str, Any]:
    first = findings[0]
    summary = _advisory_summary(first, adv)
    malicious = any(f.rule_id == "WS-ADV-MAL" for f in findings)
    affected = dict.fromkeys(
        f"{safe_text(f.package or '?')} {safe_text(f.version or '')}".strip() for f in findings
    )
    fixes = dict.fromkeys(
        (safe_text(f.package or "?"), safe_text(f.fix)) for f in findings if f.fix
    )
    aliases = dict.fromkeys(safe_text(a) for f in findings for a in f.aliases)
    refs = [r for r in _references(findings) if "://" in r]  # ids are shown as aliases
    text = [f"{safe_text(adv)}: {summary}", ""]
    text.append("Affected: " + ", ".join(list(affected)[:MAX_HELP_ITEMS]))
    text += [f"Fix ({pkg}): {fix}" for pkg, fix in list(fixes)[:MAX_HELP_ITEMS]]
    if aliases:
        text.append("Also known as: " + ", ".join(aliases))
    text += [f"Reference: {r}" for r in refs]
    md = [f"**{md_escape(adv)}**: {md_escape(summary)}", ""]
    md.append("Affected: " + ", ".join(f"`{md_escape(a)}`" for a in list(affected)[:10]))
    md += [f"- Fix ({md_escape(pkg)}): {md_escape(fix)}" for pkg, fix in list(fixes)[:10]]
    if aliases:
        md += ["", "Also known as: " + ", ".join(md_escape(a) for a in aliases)]
    if refs:
        md += ["", "References:", *[f"- {md_escape(r)}" for r in refs]]
    if wormsign_rule is not None:
        about = (
            f"Reported by wormsign rule {wormsign_rule.id} ({wormsign_rule.title}); "
            f'ignore it with [[ignore]] id = "{adv}", a reason and an expiry.'
        )
        text += ["", safe_text(about)]
        md += ["", md_escape(about)]
    precision = wormsign_rule.precision if wormsign_rule is not None else "very-high"
    worst, properties = _properties(
        findings, precision, ["malware" if malicious else "vulnerability", first.rule_id]
    )
    return {
        "id": adv,
        "name": adv,
        "shortDescription": {"text": f"{safe_text(adv)}: {summary}"},
        "fullDescription": {"text": summary},
        "help": {"text": "\n".join(text), "markdown": "\n".join(md)},
        "helpUri": OSV_URL + quote(adv, safe=""),
        "defaultConfiguration": {"level": sarif_level(worst)},
        "properties": properties,
    }


def _catalog_rule(rule: CatalogRule, findings: list[Finding]) -> dict[str, Any]:
    description = one_line(rule.description)
    text = [f"{rule.id}: {rule.title}", "", description]
    md = [f"**{rule.id}: {rule.title}**", "", description]
    if rule.references:
        text += ["", *[f"Reference: {r}" for r in rule.references]]
        md += ["", "References:", *[f"- {r}" for r in rule.references]]
    text += ["", f"Rule file: {rule.file} (wormsign rules show {rule.id})"]
    md += ["", f"Rule file: `{rule.file}` (`wormsign rules show {rule.id}`)"]
    worst, properties = _properties(findings, rule.precision, [rule.engine, rule.identifies])
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": description},
        "help": {"text": "\n".join(text), "markdown": "\n".join(md)},
        "defaultConfiguration": {"level": sarif_level(worst)},
        "properties": properties,
    }
    if rule.help_uri is not None:
        out["helpUri"] = rule.help_uri
    return out


def _uncatalogued_rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    """A rule the catalogue does not know (a user's own rules dir): described by its findings."""
    first = findings[0]
    fixes = sorted({safe_text(f.fix) for f in findings if f.fix})
    refs = _references(findings)
    help_lines = [f"{safe_text(rule_id)}: {safe_text(first.message)}"]
    help_lines += [f"Fix: {fx}" for fx in fixes[:3]]
    help_lines += [f"Reference: {r}" for r in refs[:5]]
    worst, properties = _properties(findings, "medium", [])
    out: dict[str, Any] = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": f"{rule_id}: {safe_text(first.message)}"},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": sarif_level(worst)},
        "properties": properties,
    }
    urls = [r for r in refs if r.startswith(("https://", "http://"))]
    if urls:
        out["helpUri"] = urls[0]
    return out


def sarif_rule(
    rule_id: str, findings: list[Finding], catalog: Mapping[str, CatalogRule]
) -> dict[str, Any]:
    """The reportingDescriptor of one SARIF rule id and the findings reported under it."""
    wormsign_id = findings[0].rule_id
    if rule_id != wormsign_id:
        return _advisory_rule(rule_id, findings, catalog.get(wormsign_id))
    known = catalog.get(rule_id)
    return _catalog_rule(known, findings) if known else _uncatalogued_rule(rule_id, findings)


def _suppressed_result(
    s: Suppression, report: Report, bases: Bases, rule_id: str, rule_index: int
) -> dict[str, Any]:
    """A finding the config set aside: present, so code scanning closes its alert as
    dismissed (with the reason), not as fixed."""
    result = _result(s.finding, report, bases, rule_id, rule_index)
    result["suppressions"] = [
        {
            "kind": "external",
            "status": "accepted",
            "justification": safe_text(s.reason),
            "properties": {"entry": safe_text(s.entry)},
        }
    ]
    return result


def _result(
    f: Finding, report: Report, bases: Bases, rule_id: str, rule_index: int
) -> dict[str, Any]:
    location = artifact_location(_anchor(f, report), bases.root, bases)
    physical: dict[str, Any] = {"artifactLocation": location}
    if f.line is not None and f.line >= 1:
        physical["region"] = {"startLine": f.line}
    properties: dict[str, Any] = {"severity": f.severity.label}
    if rule_id != f.rule_id:
        properties["wormsign_rule"] = f.rule_id
    for key, value in (
        ("package", f.package),
        ("version", f.version),
        ("evidence", f.evidence),
        ("fix", f.fix),
    ):
        if value is not None:
            properties[key] = safe_text(value)
    if f.references:
        properties["references"] = [safe_text(r) for r in f.references]
    if f.aliases:
        properties["aliases"] = [safe_text(a) for a in f.aliases]
    text = safe_text(f.message)
    if f.fix:
        text += f" Fix: {safe_text(f.fix)}"
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, location["uri"])},
        "properties": properties,
    }


def _catalog() -> Mapping[str, CatalogRule]:
    """The shipped catalogue; a report is still written, with plainer rule help, without it."""
    try:
        return default_catalog()
    except RuleError:
        return {}


def sarif_log(
    report: Report,
    *,
    root: Path | None = None,
    catalog: Mapping[str, CatalogRule] | None = None,
) -> dict[str, Any]:
    """The SARIF log as plain data; paths relative to `root` (default: the working dir)
    or to the site-packages they lie in; rule help from `catalog` (default: the shipped
    rule catalogue)."""
    bases = Bases(Path(os.path.abspath(root if root is not None else Path.cwd())))
    known = catalog if catalog is not None else _catalog()
    by_rule: dict[str, list[Finding]] = {}
    for f in (*report.findings, *(s.finding for s in report.suppressed)):
        by_rule.setdefault(sarif_rule_id(f), []).append(f)
    rule_ids = sorted(by_rule)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = [
        _result(f, report, bases, sarif_rule_id(f), index[sarif_rule_id(f)])
        for f in report.findings
    ]
    results += [
        _suppressed_result(
            s, report, bases, sarif_rule_id(s.finding), index[sarif_rule_id(s.finding)]
        )
        for s in report.suppressed
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "wormsign",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [sarif_rule(r, by_rule[r], known) for r in rule_ids],
            }
        },
        "originalUriBaseIds": bases.original_uri_base_ids(),
        "results": results,
        "invocations": [
            {
                "executionSuccessful": not report.incomplete,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {
                            "text": f"could not scan {safe_text(s.target)}: {safe_text(s.reason)}"
                        },
                    }
                    for s in report.errors
                ]
                + [
                    {
                        "level": "warning",
                        "message": {
                            "text": f"skipped {safe_text(s.target)}: {safe_text(s.reason)}"
                        },
                    }
                    for s in report.skipped
                ]
                + [{"level": "note", "message": {"text": safe_text(n)}} for n in report.notes],
            }
        ],
        "properties": {
            "fail_on": report.fail_on.label,
            "blocked": report.blocked,
            "incomplete": report.incomplete,
            "packages": report.packages,
            "files_hashed": report.files_hashed,
            "suppressed": len(report.suppressed),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    return json.dumps(sarif_log(report), indent=2) + "\n"
