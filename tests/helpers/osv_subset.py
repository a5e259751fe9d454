"""A small OSV directory cut from the real export: every record of a few packages."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Collection
from pathlib import Path

from scanner.models import canonical

REAL_EXPORT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "advisories"
REAL_EXPORT_ZIP = REAL_EXPORT / "osv-pypi.zip"


def write_osv_subset(names: Collection[str], dest: Path, export: Path = REAL_EXPORT_ZIP) -> Path:
    """Write to `dest` (a directory) every record of `export` that names one of `names`
    in its affected packages; return `dest`. The records are the real ones, unchanged."""
    wanted = {canonical(n) for n in names}
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(export) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".json"):
                continue
            raw = zf.read(info)
            record = json.loads(raw)
            affected = {
                canonical(a.get("package", {}).get("name", ""))
                for a in record.get("affected", [])
                if isinstance(a, dict)
            }
            if affected & wanted:
                (dest / Path(info.filename).name).write_bytes(raw)
    return dest
