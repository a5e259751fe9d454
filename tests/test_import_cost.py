"""Loading the gate and its checks must not import the attestation stack.

pypi_attestations, sigstore and pydantic take over a second to import; every
`wormsign` run loads the provenance check, and most runs have nothing to verify,
so scanner.checks.provenance.attestations imports them only when it reads or verifies
an attestation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEAVY_PACKAGES = ("sigstore", "pypi_attestations", "pydantic")

PROBE = (
    "import sys, scanner.gate, scanner.cli; "
    "[__import__(m) for m in "
    "('scanner.checks.provenance.check','scanner.checks.advisories.check')]; "
    "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
    f"{HEAVY_PACKAGES!r})))"
)


def _modules_loaded_by(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_loading_the_gate_and_checks_imports_no_attestation_library() -> None:
    assert _modules_loaded_by(PROBE) == ""


def test_reading_an_attestation_still_loads_the_libraries() -> None:
    # The probe above would also print nothing if the names were misspelt; this
    # shows it sees the libraries once the attestation code actually runs.
    code = PROBE.replace(
        "; print(",
        "; import scanner.checks.provenance.attestations as a; "
        "a.parse_attestation_document(b'{}', 'x'); print(",
    )
    loaded = set(_modules_loaded_by(code).split(","))
    assert {"sigstore", "pypi_attestations", "pydantic"} <= loaded
