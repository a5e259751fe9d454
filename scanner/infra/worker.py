"""The worker process of `scanner.infra.workers`: `python -m scanner.infra.worker`.

Reads `(function name, shared argument)`, then tasks, from standard input (length-
prefixed pickles written by the parent, which started this process); answers each with
`("ok", result)`, `("scanner-error", (class, message, path, hint))` or
`("error", text)`. Standard output is kept for the answers: anything printed goes to
standard error. Ends when standard input closes.
"""

from __future__ import annotations

import os
import sys

from scanner.errors import ScannerError
from scanner.infra.workers import qualified_name, read_message, resolve, write_message


def main() -> int:
    """Serve tasks until the parent closes the pipe."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot corrupt answers
    requests = sys.stdin.buffer
    try:
        first = read_message(requests)
    except EOFError:
        return 0
    if not isinstance(first, tuple) or not isinstance(first[0], str):
        return 2
    name, shared = first
    func = resolve(name)
    while True:
        try:
            task = read_message(requests)
        except EOFError:
            return 0
        try:
            answer: tuple[str, object] = ("ok", func(shared, task))
        except ScannerError as err:
            kind = qualified_name(type(err))
            answer = ("scanner-error", (kind, err.message, err.path, err.hint))
        except Exception as err:  # the parent runs the task again itself
            answer = ("error", f"{type(err).__name__}: {err}")
        write_message(answers, answer)


if __name__ == "__main__":
    sys.exit(main())
