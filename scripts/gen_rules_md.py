"""Write RULES.md from the rule catalogue in rules/ (run after changing a rule; a test
checks it is current).

python scripts/gen_rules_md.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner.catalog import load_catalog, render_markdown  # noqa: E402
from scanner.checks.heuristics.behaviour import (  # noqa: E402
    load_catalogue,
    render_catalogue_markdown,
)
from scanner.checks.heuristics.rules import catalog_matcher_text  # noqa: E402


def main() -> int:
    text = render_markdown(load_catalog(ROOT / "rules"), catalog_matcher_text)
    text += render_catalogue_markdown(load_catalogue(ROOT / "rules"))
    target = ROOT / "RULES.md"
    if "--check" in sys.argv[1:]:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print("RULES.md is out of date: run python scripts/gen_rules_md.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
