"""Integrity pass: files inside a distribution's own directories that no RECORD lists
(WS-INT-002), and directories that cannot be listed (WS-INT-011).
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict

from scanner.checks.integrity.state import _MAX_EXAMPLES, _TOLERATED_METADATA, RunState, _is_code
from scanner.models import Finding, Severity

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


class InjectedPass(RunState):
    """Files in the distributions' directories that no RECORD lists."""

    def _find_injected(self, site: str, roots: set[str], owned: set[str]) -> None:
        """Report files in the distributions' directories that no RECORD lists.

        Works per directory with set differences (one listdir each) instead of per
        file: only the few unknown names cost Python time.
        """
        known: dict[str, set[str]] = defaultdict(set)  # directory -> names RECORDs own
        for path in owned:
            directory, _, name = path.rpartition(os.sep)
            known[directory].add(name)
        subdirs: dict[str, list[str]] = defaultdict(list)
        for directory in list(known):
            # Register each directory with its parent, up to the walk roots, so that
            # directories holding only directories are known and descended too.
            while directory not in roots:
                parent, _, name = directory.rpartition(os.sep)
                if not parent.startswith(site) or name in known[parent]:
                    break
                known[parent].add(name)
                subdirs[parent].append(directory)
                directory = parent
        stack = sorted(roots)
        seen: set[str] = set()
        while stack:
            directory = stack.pop()
            if directory in seen:
                continue
            seen.add(directory)
            names = self._list_directory(directory)
            if names is None:
                continue
            in_metadata = directory.endswith(".dist-info")
            for name in sorted(set(names) - known.get(directory, set())):
                self._judge_unknown(directory, name, names, in_metadata)
            stack.extend(subdirs.get(directory, ()))

    def _list_directory(self, directory: str) -> list[str] | None:
        """Names in a directory, never through a symbolic link; None (reported) on failure."""
        try:
            fd = os.open(directory, _DIR_FLAGS)
        except FileNotFoundError:
            return None  # gone (the RECORD comparison reports missing files)
        except OSError as err:
            # O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux, ELOOP elsewhere
            st = _lstat_or_none(directory)
            if st is not None and not stat.S_ISLNK(st.st_mode) and not stat.S_ISDIR(st.st_mode):
                return None  # a top-level module file: nothing to list
            if st is not None and stat.S_ISLNK(st.st_mode):
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-002",
                        severity=Severity.CRITICAL,
                        path=directory,
                        evidence=f"symbolic link to {_readlink(directory)}",
                        message="A distribution's directory is a symbolic link (its files may "
                        "live anywhere).",
                    )
                )
            else:
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-011",
                        severity=Severity.HIGH,
                        path=directory,
                        message=f"Directory cannot be listed: {err.strerror or err}; files in it "
                        "cannot be checked.",
                    )
                )
            return None
        try:
            return os.listdir(fd)
        except OSError as err:
            self.findings.append(
                Finding(
                    rule_id="WS-INT-011",
                    severity=Severity.HIGH,
                    path=directory,
                    message=f"Directory cannot be listed: {err.strerror or err}.",
                )
            )
            return None
        finally:
            os.close(fd)

    def _judge_unknown(
        self, directory: str, name: str, siblings: list[str], in_metadata: bool
    ) -> None:
        """Report one name no RECORD lists (`siblings`: everything in `directory`)."""
        path = directory + os.sep + name
        try:
            st = os.lstat(path)
        except OSError:
            return  # gone meanwhile
        if stat.S_ISDIR(st.st_mode):
            if name == "__pycache__":
                for pyc in sorted(self._list_directory(path) or ()):
                    finding = _injected(path + os.sep + pyc, None, siblings, in_metadata)
                    if finding is not None:
                        self.findings.append(finding)
                return
            self.findings.append(_injected_directory(path))
            return
        in_pycache = directory.endswith(os.sep + "__pycache__")
        finding = _injected(path, st, None if in_pycache else siblings, in_metadata)
        if finding is not None:
            self.findings.append(finding)


def _injected(
    path: str, st: os.stat_result | None, source_names: list[str] | None, in_metadata: bool
) -> Finding | None:
    """A finding for one unlisted file, or None where it is tolerated.

    `source_names` lists the directory above a `__pycache__` (None: look on disk).
    """
    directory, _, name = path.rpartition(os.sep)
    if directory.endswith(os.sep + "__pycache__"):
        if name.endswith((".pyc", ".pyo")):
            # `mod.cpython-311.pyc` belongs to `mod.py` in the parent directory
            source = name.split(".", 1)[0] + ".py"
            if (
                source in source_names
                if source_names is not None
                else os.path.exists(os.path.join(os.path.dirname(directory), source))
            ):
                return None
            return Finding(
                rule_id="WS-INT-002",
                severity=Severity.LOW,
                path=path,
                message="Orphaned bytecode (its source is gone; Python does not load it).",
            )
        st = _lstat_or_none(path)
    if in_metadata and name in _TOLERATED_METADATA:
        return None
    link = st is not None and stat.S_ISLNK(st.st_mode)
    code = (
        name == "entry_points.txt"
        if in_metadata
        else (link or _is_code(name, st.st_mode if st is not None else None))
    )
    return Finding(
        rule_id="WS-INT-002",
        severity=Severity.CRITICAL if code else Severity.HIGH,
        path=path,
        evidence=f"symbolic link to {_readlink(path)}" if link else None,
        message="File inside a distribution's directory that no RECORD lists (injected?).",
    )


def _injected_directory(path: str) -> Finding:
    """One finding for a whole directory no RECORD knows, with what is inside it."""
    files: list[str] = []
    code = False
    for root, dirs, names in os.walk(path, followlinks=False):
        dirs.sort()
        for name in names:
            files.append(os.path.join(root, name))
            code = code or _is_code(name, None)
        if len(files) > 10_000:
            break
    shown = ", ".join(os.path.relpath(f, path) for f in files[:_MAX_EXAMPLES])
    return Finding(
        rule_id="WS-INT-002",
        severity=Severity.CRITICAL if code else Severity.HIGH,
        path=path,
        evidence=f"{len(files)} file(s): {shown}" if files else "empty",
        message="Directory inside a distribution's directory that no RECORD lists (injected?).",
    )


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
