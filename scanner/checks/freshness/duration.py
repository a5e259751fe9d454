"""ISO 8601 durations (`P3D`, `PT12H`, `P1W`, `P1DT6H30M`) and ages in words.

Years and months are refused: they have no fixed length, and a cooldown must mean the
same number of hours on every day it is checked. The reference time (`--as-of`) is an
RFC 3339 date-time or a date (midnight UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.IGNORECASE,
)
_CALENDAR = re.compile(r"P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T.*)?", re.IGNORECASE)
"""Looks like a duration, so a failed match was for its years or months."""
_MAX_DAYS = 3650


def parse_duration(text: str) -> timedelta:
    """`P3D` -> 3 days. Raises ValueError with the reason in plain words."""
    raw = text.strip()
    match = _DURATION.fullmatch(raw)
    if match is None or raw.upper() in ("P", "PT") or raw.upper().endswith("T"):
        if _CALENDAR.fullmatch(raw) and re.search("[YM]", raw.upper().split("T")[0]):
            raise ValueError(
                f"{text!r}: years and months have no fixed length; give days or weeks (P30D)"
            )
        raise ValueError(f"{text!r} is not an ISO 8601 duration (P3D, PT12H, P1W, P1DT6H)")
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    value = timedelta(**parts)
    if value > timedelta(days=_MAX_DAYS):
        raise ValueError(f"{text!r} is longer than {_MAX_DAYS} days")
    return value


def format_duration(value: timedelta) -> str:
    """A duration back in ISO 8601 form (`P3D`, `PT12H`, `P1DT6H`)."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if seconds else "PT0S"


def describe_age(value: timedelta) -> str:
    """An age in words, the two largest units: `2 days 4 hours`, `1 hour 30 minutes`."""
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    counts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    first = next((i for i, (n, _) in enumerate(counts) if n), None)
    if first is None:
        return "less than a minute"
    chosen = [c for c in counts[first : first + 2] if c[0]]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in chosen)


def parse_reference_time(text: str) -> datetime:
    """`--as-of`: an RFC 3339 date-time (`2026-12-02T12:00:00Z`) or a date (midnight UTC)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or an RFC 3339 date-time (2026-12-02T12:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
