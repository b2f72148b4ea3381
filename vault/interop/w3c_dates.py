"""Times as W3C VCs write them: XML Schema dateTime in UTC, to the second (``validFrom``)."""

from __future__ import annotations

from datetime import UTC, datetime

# The Gregorian calendar repeats every 400 years, to the weekday: 146,097 days.
_CYCLE = 146_097 * 86_400
_LAST = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp())


def xml_datetime(seconds: int) -> str:
    """Unix ``seconds`` (not negative) as ``YYYY-MM-DDThh:mm:ssZ``.

    Credentials may be valid until 2**40 seconds (year 36812), past the year 9999 that
    ``datetime`` stops at; XML Schema allows more digits, so such a time is shifted back by
    whole 400-year cycles and the years are added back to the text."""
    cycles = max(0, -(-(seconds - _LAST) // _CYCLE))
    moment = datetime.fromtimestamp(seconds - cycles * _CYCLE, UTC)
    return f"{moment.year + 400 * cycles:04d}{moment.strftime('-%m-%dT%H:%M:%SZ')}"
