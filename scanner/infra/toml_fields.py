"""Validating the fields of a rule file's TOML tables: the checks every rule loader makes
(the catalogue, the heuristic rules, the behaviour roads), with one wording of each error.

The config (scanner.policy) has its own reader: its errors name the config key with its
table prefix and exit 2 (ConfigError); a rule file's name the file and exit 3 (RuleError).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from scanner.errors import RuleError


def required_str(data: Mapping[str, object], key: str, where: str) -> str:
    """`data[key]`, which must be a non-empty string."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"`{key}` must be a non-empty string", path=where)
    return value


def str_list(
    value: object, key: str, where: str, *, what: str = "a list of strings"
) -> tuple[str, ...]:
    """A list of non-empty strings (absent: empty)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"`{key}` must be {what}", path=where)
    return tuple(value)


def reject_unknown(
    table: Mapping[str, object],
    known: Collection[str],
    where: str,
    *,
    label: str = "field(s)",
    show_known: bool = False,
) -> None:
    """RuleError naming every key of `table` that is not in `known`."""
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise RuleError(
            f"unknown {label}: {', '.join(unknown)}",
            path=where,
            hint=f"known: {', '.join(sorted(known))}" if show_known else None,
        )
