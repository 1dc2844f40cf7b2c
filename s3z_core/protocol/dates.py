"""HTTP dates (``Last-Modified``, ``Date``) parsed without the email package.

Every S3 server sends the IMF-fixdate form (``Wed, 21 Oct 2015 07:28:00 GMT``), parsed
here by position. Importing ``email.utils`` for it cost ~7 ms of every command's start
(``-X importtime``), so the email package's lenient parser is imported only for a date in
another form (RFC 850, asctime, a numeric zone), which no store we know sends.
"""

from __future__ import annotations

from datetime import UTC, datetime

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def parse_http_date(value: str) -> datetime | None:
    """The moment an HTTP date names (aware, UTC for GMT), or None for one that is not a
    date at all."""
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[0].endswith(","):
        month = _MONTHS.get(parts[2])
        clock = parts[4].split(":")
        if month and len(clock) == 3 and parts[1].isdigit() and parts[3].isdigit():
            try:
                hour, minute, second = (int(p) for p in clock)
                day, year = int(parts[1]), int(parts[3])
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError:
                return None
    from email.utils import parsedate_to_datetime  # another form: rare, so imported late

    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
