"""Judge model files: the globals their pickles import, and their containers.

An allowlist, not a denylist: a pickle global passes only when
`rules/models/pickle-allowlist.toml` (or the user's `[[tool.wormsign.models.allow]]`, see
scanner.checks.models.settings) names it.

Rules (metadata in `rules/models/<id>.toml`):
- WS-PICKLE-001 critical: a pickle imports a global that can run code, reach the network or
  touch files (`rules/models/pickle-dangerous.toml`), a global whose name is built at run
  time, or one reached by walking attributes (`torch.serialization` + `os.system`).
- WS-PICKLE-002 high: a pickle imports globals that no allowlist names.
- WS-PICKLE-003 critical / high: a pickle is broken or truncated; critical when it calls
  something before the break (nullifAI: the payload runs, then the parse error).
- WS-PICKLE-004 critical: BUILD sets attributes on an imported class or function itself.
- WS-PICKLE-005 low: a whole-model save whose only globals beyond the allowlist are classes
  torch defines in torch.nn.modules (`rules/models/torch-nn-classes.toml`): layers, not code,
  but loading it needs `torch.load(weights_only=False)`.
- WS-MODEL-001 high: the file's magic bytes do not match its extension (a 7z or a zip of
  zips posing as `.bin` / `.pt`).
- WS-MODEL-002 high: a Keras model with a Lambda layer (Python code that runs on load).
- WS-MODEL-003 high: a safetensors header that is invalid (sizes, dtypes, offsets, holes).
- WS-MODEL-004 high / critical: a Keras config that imports a module outside Keras.
- WS-MODEL-005 medium: a model file that could not be scanned (HDF5, unknown codec).
- WS-MODEL-006 high: a corrupt container (unreadable zip, bad npy header).
- WS-MODEL-007 medium: a checkpoint archive that carries Python source. The source itself
  (a TorchServe handler, torch.package modules) goes through the heuristic rules, whose
  findings are reported on the member.
- WS-MODEL-008 critical: a GGUF chat template that reaches beyond what chat templates use
  (dunder attributes, the attr filter, Jinja globals, os): template injection.
- WS-MODEL-009 high: an ONNX tensor whose external data lies outside the model's directory.
- WS-MODEL-010 medium: ONNX nodes in an operator domain only a custom-op library defines.
- WS-MODEL-011 high: a Keras layer that loads another saved model or reads a file on load.

When the inventory holds torch < 2.6 (installed or locked), findings on pickle-based files
go up one severity and say why: `weights_only=True` is no protection there
(CVE-2025-32434).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePath

from packaging.version import InvalidVersion, Version

from scanner.checks.interface import CheckContext, CheckResult
from scanner.checks.models.model_files import (
    is_model_file,
    member_path,
    scan_model_file,
)
from scanner.checks.models.pickle_scan import PickleGlobal, PickleScan
from scanner.checks.models.results import ContainerIssue, ModelScan
from scanner.checks.models.settings import ModelSettings
from scanner.errors import RuleError
from scanner.infra.hash_cache import HashCache, open_cache
from scanner.infra.hashing import hash_files, sha256_file
from scanner.infra.resources import rules_dir
from scanner.infra.verdict_store import VerdictStore, open_store
from scanner.models import Finding, Inventory, ModelFile, Severity
from scanner.options import ScanOptions
from scanner.verdicts import ContentFinding, Verdict, fingerprint, verdict_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "GlobalPolicy",
    "check_model_files",
    "default_policy",
    "is_model_file",
    "judge_model",
    "load_policy",
    "user_allowlist",
    "vulnerable_torch",
]

PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html"
TORCH_SERIALIZATION_DOCS = "https://pytorch.org/docs/stable/notes/serialization.html"
TORCH_CVE = "CVE-2025-32434"
TORCH_FIXED = Version("2.6.0")
ALLOWLIST_FILE = "pickle-allowlist.toml"
DANGEROUS_FILE = "pickle-dangerous.toml"
TORCH_NN_FILE = "torch-nn-classes.toml"
ISSUE_RULES: dict[str, tuple[str, Severity]] = {
    "magic-mismatch": ("WS-MODEL-001", Severity.HIGH),
    "keras-lambda": ("WS-MODEL-002", Severity.HIGH),
    "safetensors-header": ("WS-MODEL-003", Severity.HIGH),
    "keras-module": ("WS-MODEL-004", Severity.HIGH),
    "unscanned": ("WS-MODEL-005", Severity.MEDIUM),
    "corrupt": ("WS-MODEL-006", Severity.HIGH),
    "python-code": ("WS-MODEL-007", Severity.MEDIUM),
    "template-injection": ("WS-MODEL-008", Severity.CRITICAL),
    "external-data": ("WS-MODEL-009", Severity.HIGH),
    "custom-op": ("WS-MODEL-010", Severity.MEDIUM),
    "keras-external": ("WS-MODEL-011", Severity.HIGH),
}
MAX_LISTED = 8
CLASS_NAME = re.compile(r"_?[A-Z][A-Za-z0-9_]*\Z")


# -- the policy: allowlist and dangerous globals -----------------------------------------------


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`module.name` with `*` / `?` wildcards that never cross a dot."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(r"[^.]*")
        elif ch == "?":
            out.append(r"[^.]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True, slots=True)
class GlobalPolicy:
    """Which pickle globals pass, and which can run code (with the reason)."""

    allow: tuple[re.Pattern[str], ...]
    dangerous_modules: tuple[tuple[str, str], ...]
    """(module, why): the module and its submodules."""
    dangerous_globals: Mapping[str, str]
    """qualname -> why."""
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(module, excluded submodules): CapWords classes of trusted libraries (sklearn)."""
    reexports: Mapping[str, str] = field(default_factory=dict)
    """`module.Name` that a trusted module imports from elsewhere -> where it comes from:
    not the module's own class, and judged as what it is."""
    torch_nn: frozenset[str] = frozenset()
    """`module.Class` of every class torch defines in torch.nn.modules (a whole-model save)."""

    def torch_layer(self, qualname: str, name: str) -> bool:
        """A class torch itself defines in torch.nn.modules, reached without attribute walks
        (a re-export or `Linear.__init__` is not one) and not dangerous."""
        return "." not in name and qualname in self.torch_nn and self.danger(qualname) is None

    def trusted_class(self, module: str, name: str) -> bool:
        """A class (by its CapWords name) that a library `[[classes]]` trusts defines."""
        if not CLASS_NAME.match(name) or f"{module}.{name}" in self.reexports:
            return False
        for root, excluded in self.classes:
            if (module == root or module.startswith(root + ".")) and not any(
                module == e or module.startswith(e + ".") for e in excluded
            ):
                return True
        return False

    def allowed(
        self,
        qualname: str,
        extra: Iterable[re.Pattern[str]] = (),
        module: str | None = None,
        name: str | None = None,
    ) -> bool:
        """On the shipped allowlist, a trusted library's class, or on `extra` (user patterns)
        and not dangerous."""
        if any(p.match(qualname) for p in self.allow):
            return True
        if (
            module is not None
            and name is not None
            and self.trusted_class(module, name)
            and self.danger(qualname, name) is None
        ):
            return True
        return any(p.match(qualname) for p in extra) and self.danger(qualname) is None

    def _named(self, dotted: str) -> str | None:
        origin = self.reexports.get(dotted)
        if origin is not None and origin != dotted:
            why = self._named(origin)
            if why is not None:
                return f"is {origin}, which {why}"
        if dotted in self.dangerous_globals:
            return self.dangerous_globals[dotted]
        for module, why in self.dangerous_modules:
            if dotted == module or dotted.startswith(module + "."):
                return why
        return None

    def danger(self, qualname: str, name: str | None = None) -> str | None:
        """Why this global can run code, or None. `name` is the attribute path after the
        module, which the unpickler walks: `os.system` inside `torch.serialization.os.system`
        is found there."""
        why = self._named(qualname)
        if why is not None:
            return why
        parts = name.split(".") if name else []
        if any(len(p) > 4 and p.startswith("__") and p.endswith("__") for p in parts):
            return "walks attributes through dunder names (__globals__, __builtins__ ...)"
        if len(parts) > 1:
            for i in range(len(parts)):
                why = self._named(".".join(parts[i:]))
                if why is not None:
                    return f"is reached by attribute access and {why}"
        return None


def _models_rules_dir() -> Path:
    return rules_dir() / "models"


def _load_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise RuleError(f"cannot read: {err}", path=str(path)) from err
    except tomllib.TOMLDecodeError as err:
        raise RuleError(f"not valid TOML: {err}", path=str(path)) from err


def _tables(data: dict[str, object], key: str, path: Path) -> list[dict[str, object]]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise RuleError(f"needs [[{key}]] tables", path=str(path))
    return raw


def _strings(table: dict[str, object], key: str, path: Path) -> list[str]:
    raw = table.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
        raise RuleError(f"`{key}` must be a list of non-empty strings", path=str(path))
    return raw


def load_policy(directory: Path | None = None) -> GlobalPolicy:
    """Read the allowlist and the dangerous globals from `rules/models/`."""
    root = directory if directory is not None else _models_rules_dir()
    allow_path, danger_path = root / ALLOWLIST_FILE, root / DANGEROUS_FILE
    allow: list[re.Pattern[str]] = []
    allow_data = _load_toml(allow_path)
    for table in _tables(allow_data, "allow", allow_path):
        allow.extend(compile_pattern(g) for g in _strings(table, "globals", allow_path))
    modules: list[tuple[str, str]] = []
    named: dict[str, str] = {}
    for table in _tables(_load_toml(danger_path), "group", danger_path):
        why = table.get("why")
        if not isinstance(why, str) or not why:
            raise RuleError("each [[group]] needs a `why`", path=str(danger_path))
        modules.extend((m, why) for m in _strings(table, "modules", danger_path))
        named.update((g, why) for g in _strings(table, "globals", danger_path))
    classes: list[tuple[str, tuple[str, ...]]] = []
    reexports: dict[str, str] = {}
    for table in _tables(allow_data, "classes", allow_path) if "classes" in allow_data else []:
        excluded = tuple(_strings(table, "exclude", allow_path))
        classes.extend((m, excluded) for m in _strings(table, "modules", allow_path))
        raw = table.get("reexports", {})
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            raise RuleError(
                "`reexports` must map `module.Name` to its origin", path=str(allow_path)
            )
        reexports.update(raw)
    return GlobalPolicy(
        allow=tuple(allow),
        dangerous_modules=tuple(modules),
        dangerous_globals=named,
        classes=tuple(classes),
        reexports=reexports,
        torch_nn=_torch_nn_classes(root / TORCH_NN_FILE),
    )


def _torch_nn_classes(path: Path) -> frozenset[str]:
    """`module.Class` names from torch-nn-classes.toml; none when a rules dir lacks it
    (then a whole-model save is WS-PICKLE-002, the stricter judgement)."""
    if not path.exists():
        return frozenset()
    modules = _load_toml(path).get("modules")
    if not isinstance(modules, dict):
        raise RuleError("needs a [modules] table", path=str(path))
    out: set[str] = set()
    for module, names in modules.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise RuleError(f"{module}: needs a list of class names", path=str(path))
        out.update(f"{module}.{n}" for n in names)
    return frozenset(out)


@lru_cache(maxsize=1)
def default_policy() -> GlobalPolicy:
    """The shipped policy, loaded once per process."""
    return load_policy()


def user_allowlist(
    settings: ModelSettings, path: Path, sha256: str | None = None
) -> tuple[re.Pattern[str], ...]:
    """Patterns of the user's allowlist entries (`[[tool.wormsign.models.allow]]`) that
    select this model file: by its sha256 (`sha256`, None when it was not hashed) and by a
    glob over the end of its path; an entry must match on every selector it gives."""
    out: list[re.Pattern[str]] = []
    pure = PurePath(path)
    for entry in settings.allow:
        if entry.sha256 is not None and entry.sha256 != sha256:
            continue
        if entry.path is not None:
            try:
                matches = pure.match(entry.path) or entry.path in (pure.name, str(pure))
            except ValueError:
                matches = False
            if not matches:
                continue
        out.extend(compile_pattern(name) for name in entry.globals)
    return tuple(out)


# -- torch < 2.6 correlation -------------------------------------------------------------------


def _release(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        match = re.match(r"\d+(?:\.\d+)*", version)
        return Version(match.group(0)) if match else None


def vulnerable_torch(inventory: Inventory) -> str | None:
    """`torch 2.5.1 (installed)` when the inventory holds a torch older than 2.6, else None."""
    candidates = [(d.version, "installed") for d in inventory.installed if d.name == "torch"]
    candidates += [
        (p.version, f"locked in {p.lockfile.name}")
        for p in inventory.locked_packages
        if p.name == "torch" and p.version
    ]
    for version, where in candidates:
        parsed = _release(version) if version else None
        if parsed is not None and parsed < TORCH_FIXED:
            return f"torch {version} ({where})"
    return None


def _raise(finding: Finding, torch: str) -> Finding:
    severity = Severity(min(int(finding.severity) + 1, int(Severity.CRITICAL)))
    return Finding(
        rule_id=finding.rule_id,
        severity=severity,
        message=f"{finding.message}; {torch} loads it, and torch < 2.6 runs code from a "
        f"checkpoint even with weights_only=True ({TORCH_CVE})",
        package=finding.package,
        version=finding.version,
        path=finding.path,
        line=finding.line,
        evidence=finding.evidence,
        references=(*finding.references, TORCH_CVE),
        fix="upgrade torch to 2.6 or later" if finding.fix is None else finding.fix,
        aliases=finding.aliases,
        fix_version=finding.fix_version,
    )


# -- judging one scan --------------------------------------------------------------------------


def _describe(g: PickleGlobal) -> str:
    text = f"{g.opcode} {g.qualname} at offset {g.offset}"
    if g.written_as:
        text += f" (written as {g.written_as})"
    if g.called:
        text += f", called at offset {g.call_offset}"
    return text


def _scan_findings(
    scan: PickleScan,
    where: str,
    policy: GlobalPolicy,
    extra: tuple[re.Pattern[str], ...],
    label: str,
) -> Iterator[Finding]:
    unknown: dict[str, PickleGlobal] = {}
    dangerous: dict[str, tuple[PickleGlobal, str]] = {}
    layers: dict[str, PickleGlobal] = {}
    for g in scan.globals:
        if not g.resolved:
            if g.opcode.startswith("EXT"):
                unknown.setdefault(g.qualname, g)
            else:
                dangerous.setdefault(
                    g.qualname,
                    (
                        g,
                        "its module or name is built at run time, "
                        "so no static scanner can say what it is",
                    ),
                )
            continue
        if policy.allowed(g.qualname, extra, g.module, g.name):
            continue
        if policy.torch_layer(g.qualname, g.name):
            layers.setdefault(g.qualname, g)
            continue
        why = policy.danger(g.qualname, g.name)
        if why is not None:
            dangerous.setdefault(g.qualname, (g, why))
        else:
            unknown.setdefault(g.qualname, g)
    for qualname, (g, why) in dangerous.items():
        verb = "imports and calls" if g.called else "imports"
        yield Finding(
            rule_id="WS-PICKLE-001",
            severity=Severity.CRITICAL,
            message=f"{label} {verb} {qualname}, which {why}",
            path=where,
            evidence=_describe(g),
            references=(PICKLE_DOCS,),
            fix="do not load this file; get the model from its publisher as safetensors",
        )
    if unknown:
        names = sorted(unknown)
        listed = ", ".join(names[:MAX_LISTED]) + (" ..." if len(names) > MAX_LISTED else "")
        yield Finding(
            rule_id="WS-PICKLE-002",
            severity=Severity.HIGH,
            message=f"{label} imports {len(names)} global(s) on no allowlist: {listed}",
            path=where,
            evidence="; ".join(_describe(unknown[n]) for n in names[:MAX_LISTED]),
            references=(PICKLE_DOCS,),
            fix="if these classes are yours and trusted, allow them for this file "
            "([[tool.wormsign.models.allow]] with its sha256 and these globals); otherwise "
            "convert the model to safetensors",
        )
    if layers:
        names = sorted(layers)
        shown = ", ".join(n.rsplit(".", 1)[1] for n in names[:MAX_LISTED])
        yield Finding(
            rule_id="WS-PICKLE-005",
            severity=Severity.LOW,
            message=f"{label} is a whole-model save: it rebuilds {len(names)} torch.nn "
            f"class(es) torch defines ({shown}{' ...' if len(names) > MAX_LISTED else ''}), "
            "layers rather than code, but loading it needs torch.load(weights_only=False)",
            path=where,
            evidence="; ".join(_describe(layers[n]) for n in names[:MAX_LISTED]),
            references=(TORCH_SERIALIZATION_DOCS,),
            fix="save model.state_dict() instead and load it into the model class, so "
            "torch.load's default weights_only=True reads it",
        )
    for anomaly in scan.anomalies:
        if anomaly.startswith("BUILD at"):
            yield Finding(
                rule_id="WS-PICKLE-004",
                severity=Severity.CRITICAL,
                message=f"{label} rewrites attributes of an imported global: {anomaly}",
                path=where,
                evidence=anomaly,
                references=(PICKLE_DOCS,),
            )
    if scan.broken:
        calls = list(scan.calls)
        if calls:
            first = calls[0]
            yield Finding(
                rule_id="WS-PICKLE-003",
                severity=Severity.CRITICAL,
                message=f"{label} breaks at offset {scan.error_offset} after {len(calls)} "
                "call(s): a loader runs them before it sees the error",
                path=where,
                evidence=f"{scan.error}; first call {first.opcode} "
                f"{first.target or '(not a global)'} at {first.offset}",
                references=(PICKLE_DOCS,),
            )
        else:
            yield Finding(
                rule_id="WS-PICKLE-003",
                severity=Severity.HIGH,
                message=f"{label} is broken or truncated at offset {scan.error_offset}",
                path=where,
                evidence=scan.error,
                references=(PICKLE_DOCS,),
            )
    for inner in scan.nested:
        inner_label = f"a pickle nested at offset {inner.offset}" + (
            f" (passed to {inner.passed_to})" if inner.passed_to else ""
        )
        for f in _scan_findings(inner.scan, where, policy, extra, inner_label):
            if f.rule_id == "WS-PICKLE-003" and inner.passed_to is None:
                continue  # bytes that only look like a pickle and that nothing unpickles
            yield f


def _issue_finding(issue: ContainerIssue, model: ModelScan, policy: GlobalPolicy) -> Finding:
    rule_id, severity = ISSUE_RULES[issue.kind]
    if issue.kind == "keras-module" and issue.evidence and policy.danger(issue.evidence):
        severity = Severity.CRITICAL
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=issue.message,
        path=member_path(model.path, issue.member),
        evidence=issue.evidence,
    )


def _code_findings(model: ModelScan) -> Iterator[Finding]:
    """The heuristic rules over the Python a loader runs from this file."""
    from scanner.checks.heuristics.check import evaluate, view_of_files

    view = view_of_files(model.code, kind="wheel", pure=True, label=str(model.path))
    yield from evaluate(view)


def judge_model(
    model: ModelScan, policy: GlobalPolicy, extra: tuple[re.Pattern[str], ...] = ()
) -> Iterator[Finding]:
    """Every finding for one scanned model file (before the torch correlation)."""
    for issue in model.issues:
        yield _issue_finding(issue, model, policy)
    if model.code:
        yield from _code_findings(model)
    for member in model.pickles:
        where = member_path(model.path, member.member)
        many = len(member.scans) > 1
        for i, scan in enumerate(member.scans):
            label = f"pickle #{i + 1}" if many else "the pickle"
            yield from _scan_findings(scan, where, policy, extra, label)


def check_model_files(inventory: Inventory, context: CheckContext) -> CheckResult:
    """The model-files check: every `inventory.model_files` entry, scanned and judged.

    What a file's bytes decide (its scan and judgement, before the torch correlation) is a
    content verdict: an unchanged file is judged once (see `judged_models`).
    Raises SourceError when a model file cannot be read at all (the scan is incomplete).
    """
    return CheckResult.of(_model_findings(inventory, context.options))


def digest_of(path: Path) -> str | None:
    """The file's sha256, None when it cannot be read (no sha256 entry then applies)."""
    try:
        return sha256_file(path)[0]
    except OSError:
        return None


def _model_findings(inventory: Inventory, options: ScanOptions) -> Iterator[Finding]:
    torch = vulnerable_torch(inventory)
    for findings, pickle_based in judged_models(inventory.model_files, options):
        for finding in findings:
            yield _raise(finding, torch) if torch is not None and pickle_based else finding


# -- content verdicts ------------------------------------------------------------------------
# What a model file's bytes decide (its scan and judgement) depends only on those bytes,
# its name (a magic-bytes mismatch is judged against the suffix), the shipped policy under
# `rules/models/` and the user's allowlist entries that select it: a content verdict
# (`scanner.verdicts`), so an unchanged file is judged once. The verdict keeps places
# relative to the file (`!member` or nothing) and whether loading it unpickles anything;
# the torch < 2.6 correlation is context and stays outside. It is stored only when the
# file hashed before the scan is the file hashed after it, and nothing was left unscanned.

KIND = "models"
PICKLE_BASED = "pickle-based"
_PARTIAL = frozenset({"WS-MODEL-005"})
"""Findings that say the scan could not finish: such a verdict is for this run only."""


def judged_models(
    model_files: Sequence[ModelFile], options: ScanOptions
) -> Iterator[tuple[list[Finding], bool]]:
    """(findings, whether the file is pickle-based) for each model file, in order."""
    if not model_files:
        return
    store = open_store(options.use_cache, options.cache_dir)
    hashes = open_cache(options) if store is not None else None
    try:
        for model_file in model_files:
            yield _judge(model_file.path, options, store, hashes)
    finally:
        if store is not None:
            store.close()
        if hashes is not None:
            hashes.close()


def _sha256(path: Path, hashes: HashCache | None) -> str | None:
    outcome = hash_files([path], hashes).get(path)
    return outcome[0] if isinstance(outcome, tuple) else None


def _judge(
    path: Path, options: ScanOptions, store: VerdictStore | None, hashes: HashCache | None
) -> tuple[list[Finding], bool]:
    settings = options.models
    key: str | None = None
    before: str | None = None
    if store is not None:
        before = _sha256(path, hashes)
    digest = before
    if digest is None and settings.needs_digest:
        digest = digest_of(path)
    extra = user_allowlist(settings, path, digest)
    if store is not None and before is not None:
        fp = fingerprint({"model_allowlist": sorted(p.pattern for p in extra)})
        key = verdict_key(KIND, before, fp, {"name": path.name})
        verdict = store.get(key)
        if verdict is not None:
            return _placed(path, verdict), verdict.payload == PICKLE_BASED
    model = scan_model_file(path)  # raises SourceError: the scan is incomplete
    findings = list(judge_model(model, default_policy(), extra))
    if store is not None and key is not None:
        prefix = str(path)
        found: list[ContentFinding] = []
        for f in findings:
            where = f.path or ""
            if not where.startswith(prefix):
                found = []
                break
            found.append(
                ContentFinding(
                    rule_id=f.rule_id,
                    severity=f.severity,
                    message=f.message,
                    member=where[len(prefix) :] if where != prefix else None,
                    line=f.line,
                    evidence=f.evidence,
                    references=f.references,
                    fix=f.fix,
                )
            )
        whole = len(found) == len(findings) and not any(f.rule_id in _PARTIAL for f in findings)
        whole = whole and _sha256(path, hashes) == before
        payload = PICKLE_BASED if model.pickle_based else None
        store.put(key, Verdict(KIND, tuple(found), complete=whole, payload=payload))
    return findings, model.pickle_based


def _placed(path: Path, verdict: Verdict) -> list[Finding]:
    return [cf.to_finding(f"{path}{cf.member or ''}") for cf in verdict.findings]
