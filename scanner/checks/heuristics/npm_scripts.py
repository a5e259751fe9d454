"""What an npm lifecycle script in a shipped package.json runs (WS-JS-001).

A wheel may carry a front-end's package.json with `install` hooks that only call the
package manager or a build tool (`yarn build`, `node-gyp rebuild`): judged by what they
run, they are not a payload. A hook is suspicious when one of its commands, or a script
it names through `npm run` / `yarn` / `pnpm`, runs a JavaScript runtime on a file or on
code (`node bundle.js`, `bun x`, `node -e ...`), fetches (`curl`, `wget`, a URL), starts a
shell or another interpreter (`curl ... | sh`, `bash x.sh`, `python x.py`), or executes a
file by its path (`./setup`). Nothing is run here: the text is only split and read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

INSTALL_HOOKS = ("preinstall", "install", "postinstall")
_RUNTIMES = frozenset({"node", "nodejs", "bun", "deno"})
_FETCHERS = frozenset(
    {"curl", "wget", "iwr", "irm", "invoke-webrequest", "invoke-restmethod", "nc", "ncat"}
)
_SHELLS = frozenset(
    {
        "sh", "bash", "zsh", "dash", "ksh", "fish", "cmd", "cmd.exe", "powershell", "pwsh",
        "eval", "source", ".", "exec", "python", "python3", "perl", "ruby", "php",
    }
)  # fmt: skip
_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
_PREFIXES = frozenset({"npx", "cross-env", "env", "nohup", "time", "sudo"})
_RUNTIME_INFO = frozenset({"--version", "-v", "--help", "-h"})
_SEPARATORS = re.compile(r"&&|\|\||;|\n")
_URL = re.compile(r"https?://", re.IGNORECASE)
_MAX_DEPTH = 5


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, posix=True)
    except ValueError:  # an unbalanced quote: read it word by word
        return command.split()


def _command_reason(words: list[str], piped: bool) -> str | None:
    """Why one simple command is suspicious, or None."""
    while words and (("=" in words[0] and not words[0].startswith("-")) or words[0] in _PREFIXES):
        words = words[1:]
    if not words:
        return None
    first = words[0].lower().rsplit("/", 1)[-1].removesuffix(".exe")
    rest = words[1:]
    if first in _RUNTIMES:
        if rest and all(w in _RUNTIME_INFO for w in rest):
            return None
        return f"runs {words[0]} on {' '.join(rest)[:60] or 'its stdin'}"
    if first in _FETCHERS:
        return f"fetches with {words[0]}"
    if first in _SHELLS:
        return f"{'pipes into' if piped else 'starts'} {words[0]}"
    if "/" in words[0] or "\\" in words[0] or words[0].startswith("."):
        return f"executes {words[0]}"
    return None


def _script_named(words: list[str], scripts: Mapping[str, object]) -> str | None:
    """The package's own script a package-manager call runs (`npm run x`, `yarn x`)."""
    if not words or words[0] not in _MANAGERS:
        return None
    rest = [w for w in words[1:] if not w.startswith("-")]
    if rest[:1] in (["run"], ["run-script"]):
        rest = rest[1:]
    if rest and rest[0] in scripts:
        return rest[0]
    return None


def hook_reason(
    command: str, scripts: Mapping[str, object], depth: int = 0, seen: frozenset[str] = frozenset()
) -> str | None:
    """Why this lifecycle command is suspicious, or None when it only calls the package
    manager or a build tool. Scripts it names are followed (a cycle or depth > 5 is
    suspicious in itself: npm would recurse forever)."""
    if _URL.search(command):
        return "names a URL"
    for segment in _SEPARATORS.split(command):
        for i, piece in enumerate(segment.split("|")):
            words = _words(piece)
            reason = _command_reason(words, piped=i > 0)
            if reason is not None:
                return reason
            named = _script_named(words, scripts)
            if named is None:
                continue
            if named in seen or depth >= _MAX_DEPTH:
                return f"scripts call each other in a loop through {named!r}"
            target = scripts[named]
            if isinstance(target, str):
                inner = hook_reason(target, scripts, depth + 1, seen | {named})
                if inner is not None:
                    return f"runs script {named!r}, which {inner}"
    return None
