"""Parsing the time values users type: durations (``30s``, ``15m``, ``1h``, ``7d``, ``2w``) and
points in time (a duration ago, ``now``, ``today``, ``yesterday``, ISO 8601, or epoch seconds)."""

from __future__ import annotations

import datetime as dt
import re
import time

from llmwatch.options import DURATION_FORM
from llmwatch.options import DURATION_PATTERN as _DURATION
from llmwatch.options import DURATION_UNITS as _UNITS

TIME_FORM = ("a duration ago (1h, 7d), now, today, yesterday, an ISO 8601 date/time "
             "(2026-11-24 or 2026-11-24T09:30:00Z) or Unix epoch seconds")


def parse_duration(text: str | float, what: str = "duration") -> float:
    """Seconds in ``text``; ``ValueError`` naming ``what`` and the accepted form otherwise.

    >>> parse_duration("1h")
    3600.0
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"invalid {what} {text!r}: expected a positive duration, {DURATION_FORM}")
        return float(text)
    m = _DURATION.fullmatch(str(text))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"invalid {what} {text!r}: expected {DURATION_FORM}")
    return float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]


def parse_time(text: str | float | dt.datetime, what: str = "time", now: float | None = None) -> float:
    """Epoch seconds for ``text`` (see module docstring); naive ISO times are taken as UTC."""
    now = time.time() if now is None else now
    if isinstance(text, dt.datetime):
        return (text if text.tzinfo else text.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip()
    low = s.lower()
    if low == "now":
        return now
    if low in ("today", "yesterday"):
        day = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        return day.timestamp() - (86400 if low == "yesterday" else 0)
    if _DURATION.fullmatch(s) and re.search(r"[a-z]$", low):
        return now - parse_duration(s, what)
    if re.fullmatch(r"\d{9,}(\.\d+)?", s):
        return float(s)
    try:
        parsed = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid {what} {text!r}: expected {TIME_FORM}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()
