"""Generate rules/typosquat/established-names.txt from a ranked list of PyPI downloads.

    python scripts/gen_established_names.py INPUT [--top 15000] [--output PATH]

WS-TYPO-001 never reports a name that is itself among PyPI's most downloaded projects: a
typosquat is an obscure package imitating a popular one, and a project thousands of
installs a day depend on is established, whatever its name looks like (GuardDog ships
PyPI's top packages for the same reason). This script turns a public download ranking
into that list, so the rule comes from data anyone can refresh, not from names picked by
hand. INPUT is one of:
- a TSV whose header has a `name` column and a column whose name contains `rank`
  (rows with an empty rank are not ranked and are left out);
- the JSON of hugovk's public top-pypi-packages dataset:
  `{"last_update": ..., "rows": [{"project": ..., "download_count": ...}, ...]}`;
- a plain text file with one name a line, most downloaded first (`#` starts a comment).
Names are canonicalised (PEP 503) and kept in rank order; the first N are written.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "rules" / "typosquat" / "established-names.txt"
DEFAULT_TOP = 15000


class RankingError(Exception):
    """The input is not a download ranking this script reads."""


@dataclass(frozen=True, slots=True)
class Ranking:
    """Project names, most downloaded first, and what the input says about itself."""

    names: tuple[str, ...]
    """Canonical names in rank order, each once."""
    kind: str
    """Which input format they came from (for the header)."""
    snapshot: str | None
    """When the ranking was taken, where the input says so."""


def _unique_in_order(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in names:
        canonical = canonicalize_name(name.strip())
        if canonical:
            seen.setdefault(canonical, None)
    return tuple(seen)


def read_tsv(text: str) -> Ranking:
    """A TSV with `name` and `*rank*` columns; the latest `month`, if any, dates it."""
    rows = csv.reader(text.splitlines(), delimiter="\t")
    header = [h.strip().lower() for h in next(rows, [])]
    rank_cols = [i for i, h in enumerate(header) if "rank" in h]
    if not rank_cols:
        raise RankingError("the TSV header has no rank column")
    rank_col = rank_cols[0]
    name_col = header.index("name") if "name" in header else 0
    month_col = header.index("month") if "month" in header else None
    ranked: list[tuple[int, str]] = []
    months: list[str] = []
    for row in rows:
        if len(row) <= max(rank_col, name_col) or not row[rank_col].strip():
            continue
        try:
            rank = int(row[rank_col])
        except ValueError as err:
            raise RankingError(f"rank {row[rank_col]!r} of {row[name_col]!r} is no number") from err
        ranked.append((rank, row[name_col]))
        if month_col is not None and len(row) > month_col and row[month_col]:
            months.append(row[month_col])
    ranked.sort(key=lambda pair: pair[0])
    # The month column is each project's latest release: the newest one bounds the day
    # the list was taken.
    snapshot = f"releases up to {max(months)}" if months else None
    return Ranking(
        _unique_in_order(n for _, n in ranked), "TSV with a download-rank column", snapshot
    )


def read_top_pypi_json(text: str) -> Ranking:
    """hugovk's top-pypi-packages JSON: rows of project and download_count."""
    try:
        document = json.loads(text)
        rows = document["rows"]
        pairs = [(int(row["download_count"]), str(row["project"])) for row in rows]
    except (ValueError, KeyError, TypeError) as err:
        raise RankingError(f"not a top-pypi-packages JSON document: {err}") from err
    # Most downloads first; a stable sort keeps the file's order among equal counts.
    pairs.sort(key=lambda pair: -pair[0])
    last_update = document.get("last_update") if isinstance(document, dict) else None
    snapshot = f"last_update {last_update}" if last_update else None
    return Ranking(_unique_in_order(n for _, n in pairs), "top-pypi-packages JSON", snapshot)


def read_plain(text: str) -> Ranking:
    """One name a line, most downloaded first."""
    names = (line.split("#", 1)[0] for line in text.splitlines())
    return Ranking(_unique_in_order(names), "name-per-line list", None)


def read_ranking(path: Path) -> Ranking:
    """The ranking in `path`, whichever of the three formats it is."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if path.suffix == ".json" or stripped.startswith("{"):
        return read_top_pypi_json(text)
    first_line = stripped.split("\n", 1)[0]
    if "\t" in first_line:
        return read_tsv(text)
    return read_plain(text)


def render(ranking: Ranking, top: int, source: str, today: datetime.date) -> str:
    """The established-names file: a header saying where it came from, then the names."""
    names = ranking.names[:top]
    snapshot = f" ({ranking.snapshot})" if ranking.snapshot else ""
    header = [
        "# Established PyPI projects: WS-TYPO-001 never reports a name on this list.",
        "# A typosquat is an obscure package imitating a popular one; a project that is",
        "# itself among PyPI's most downloaded is established, whatever its name looks like.",
        "# Generated by scripts/gen_established_names.py; do not edit by hand.",
        f"# Source: {source}, a {ranking.kind}{snapshot}.",
        f"# The {len(names)} most downloaded projects, most downloaded first, PEP 503 names.",
        f"# Generated on {today.isoformat()}. To refresh, from the repository root:",
        "#   python scripts/gen_established_names.py top-pypi-packages.min.json",
        "# with the JSON of hugovk's public top-pypi-packages dataset (or a TSV with a",
        "# download-rank column, or one name a line, most downloaded first).",
    ]
    return "\n".join([*header, *names]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("input", type=Path, help="a download ranking (TSV, JSON or names)")
    parser.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        help=f"how many of the most downloaded to keep (default {DEFAULT_TOP})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the list (default rules/typosquat/established-names.txt)",
    )
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    try:
        ranking = read_ranking(args.input)
    except (OSError, UnicodeDecodeError, RankingError) as err:
        print(f"error: {args.input}: {err}", file=sys.stderr)
        return 1
    if not ranking.names:
        print(f"error: {args.input}: no ranked names", file=sys.stderr)
        return 1
    today = datetime.datetime.now(datetime.timezone.utc).date()
    args.output.write_text(render(ranking, args.top, args.input.name, today), encoding="utf-8")
    kept = min(args.top, len(ranking.names))
    print(f"wrote {kept} of {len(ranking.names)} ranked names to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
