"""What `wormsign fix` would change: per scanned lock file or environment, the upgrade
that clears every advisory of a pinned package, as the edit its format takes.

The target version is the advisories check's own (Finding.fix_version: the smallest
release that no known advisory of the package affects, from the records' OSV ranges).
Only a requirements file's pin is a text edit wormsign makes itself; every other lock
format records resolver output (hashes, markers, the dependency graph) that only its
tool can write, so the plan names the command that reaches the version.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.fixes.constraints import constraint_note
from scanner.models import ADVISORY_RULES, Environment, Finding, Lockfile, Report


@dataclass(frozen=True, slots=True)
class Upgrade:
    """One vulnerable pin in one place and the version that clears all its advisories."""

    name: str
    current: str
    target: str | None
    """None: no known release clears every advisory of the package."""
    advisories: tuple[str, ...]
    path: str
    line: int | None
    malicious: bool


@dataclass(frozen=True, slots=True)
class Step:
    """How to apply one upgrade where it was found."""

    upgrade: Upgrade
    where: str
    """`requirements.txt`, `uv.lock`, `environment /x/site-packages` ..."""
    command: str | None
    """The command to run (None for a requirements line edit or when none exists)."""
    note: str | None = None
    lockfile: Lockfile | None = None
    """Set for a requirements file: wormsign edits it itself."""

    @property
    def is_text_edit(self) -> bool:
        """True where wormsign makes the change (a requirements pin)."""
        return self.lockfile is not None and self.upgrade.target is not None


def upgrades(findings: Iterable[Finding]) -> list[Upgrade]:
    """The advisory findings grouped per (place, package, version)."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        if f.rule_id in ADVISORY_RULES and f.references and f.package and f.version:
            groups.setdefault((f.path or "", f.package, f.version), []).append(f)
    out = []
    for (path, name, version), group in groups.items():
        targets = {f.fix_version for f in group}
        target = targets.pop() if len(targets) == 1 else None
        out.append(
            Upgrade(
                name=name,
                current=version,
                target=target,
                advisories=tuple(dict.fromkeys(f.references[0] for f in group)),
                path=path,
                line=group[0].line,
                malicious=any(f.rule_id == "WS-ADV-MAL" for f in group),
            )
        )
    return sorted(out, key=lambda u: (u.path, u.line or 0, u.name))


def plan(report: Report) -> list[Step]:
    """One step per upgrade, in the order of the places."""
    locks = {str(lf.path): lf for lf in report.inventory.lockfiles}
    envs = {
        str(d.metadata_dir): env for env in report.inventory.environments for d in env.distributions
    }
    return [_step(u, locks.get(u.path), envs.get(u.path)) for u in upgrades(report.findings)]


def _q(text: str) -> str:
    return shlex.quote(text)


def _step(u: Upgrade, lock: Lockfile | None, env: Environment | None) -> Step:
    if u.target is None:
        what = "remove it" if u.malicious else "remove it or accept the risk with an [[ignore]]"
        if env is not None:
            where = f"environment {env.site_packages}"
        else:
            where = str(lock.path) if lock is not None else u.path
        return Step(u, where, None, f"no known release of {u.name} clears every advisory: {what}")
    pin = f"{u.name}=={u.target}"
    if env is not None:
        return _environment_step(u, env, pin)
    if lock is None:
        return Step(u, u.path, None, f"replace this file with {pin}")
    directory = _q(str(lock.path.parent))
    note = constraint_note(lock.path.parent, u.name, u.target)
    fmt = lock.format
    if fmt == "requirements":
        return Step(u, str(lock.path), None, None, lockfile=lock)
    if fmt == "uv":
        return Step(
            u, str(lock.path), f"uv lock --directory {directory} --upgrade-package {_q(pin)}", note
        )
    if fmt == "poetry":
        return Step(
            u,
            str(lock.path),
            f"poetry update --directory {directory} {_q(u.name)}",
            _join(
                f"reaches the newest release pyproject.toml allows; {pin} is the smallest "
                "that clears every advisory",
                note,
            ),
        )
    if fmt == "pipfile":
        return Step(u, str(lock.path), f"cd {directory} && pipenv upgrade {_q(pin)}", note)
    if fmt == "pdm":
        return Step(
            u,
            str(lock.path),
            f"pdm update --project {directory} {_q(u.name)}",
            _join(
                f"reaches the newest release pyproject.toml allows; {pin} is the smallest "
                "that clears every advisory",
                note,
            ),
        )
    if fmt == "pylock":
        return _pylock_step(u, lock, pin, directory, note)
    if fmt == "conda-lock":
        return Step(
            u,
            str(lock.path),
            f"conda-lock lock --update {_q(u.name)}",
            _join(f"the pip dependency in the environment file must allow {pin}", note),
        )
    return Step(u, str(lock.path), None, f"regenerate the lock with {pin}")


def _pylock_step(u: Upgrade, lock: Lockfile, pin: str, directory: str, note: str | None) -> Step:
    created_by = dict(lock.options).get("created-by", "")
    out = _q(str(lock.path))
    if created_by == "uv":
        command = (
            f"uv lock --directory {directory} --upgrade-package {_q(pin)} && "
            f"uv export --directory {directory} --format pylock.toml -o {out}"
        )
    elif created_by == "pdm":
        command = (
            f"pdm update --project {directory} {_q(u.name)} && "
            f"pdm export --project {directory} -f pylock -o {out}"
        )
    elif created_by == "pipenv":
        command = f"cd {directory} && pipenv upgrade {_q(pin)}"
    else:
        return Step(
            u,
            str(lock.path),
            None,
            _join(
                f"regenerate it with the tool that wrote it ({created_by or 'unknown'}), "
                f"with {pin}",
                note,
            ),
        )
    return Step(u, str(lock.path), command, note)


def _environment_step(u: Upgrade, env: Environment, pin: str) -> Step:
    python = env.python
    if python is None:
        prefix = env.site_packages.parents[2] if len(env.site_packages.parents) > 2 else None
        if prefix is not None and (prefix / "pyvenv.cfg").is_file():
            python = prefix / "bin" / "python"
    if python is not None:
        command = f"{_q(str(python))} -m pip install {_q(pin)}"
    else:
        command = f"pip install {_q(pin)}"
    return Step(u, f"environment {env.site_packages}", command, None)


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def steps_by_place(steps: Iterable[Step]) -> Iterator[tuple[str, list[Step]]]:
    """Steps grouped by place, in order."""
    grouped: dict[str, list[Step]] = {}
    for s in steps:
        grouped.setdefault(s.where, []).append(s)
    yield from grouped.items()
