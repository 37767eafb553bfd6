"""Times in the agency's zone: what an analyst types without a zone means local time, never UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..errors import InvalidTimeWindow


def agency_instant(value: datetime, zone: str) -> tuple[datetime, bool]:
    """``value`` as an aware instant, and whether its zone was assumed (a naive time is read in ``zone``)."""
    if not isinstance(value, datetime):
        raise InvalidTimeWindow(f"expected a date and time (datetime), got {type(value).__name__} {value!r}",
                                reason="invalid_window")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=ZoneInfo(zone)), True
    return value, False
