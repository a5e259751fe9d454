#!/usr/bin/env bash
# CI entry: install atheris if it is missing (it is not a project dependency) and run every
# harness briefly. A failure to install atheris is reported and skipped (exit 0); a crash
# or a hang found by a harness fails (exit 1).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c "import atheris" 2>/dev/null; then
    if ! "$PY" -m pip install -q atheris; then
        echo "fuzz: atheris could not be installed here; fuzzing skipped" >&2
        exit 0
    fi
fi
exec fuzz/run_all.sh "${FUZZ_SECONDS:-105}"
