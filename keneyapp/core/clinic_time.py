"""Dates and times as a clinic means them: naive values are wall-clock time in the clinic's zone.

A wall-clock time skipped by a daylight-saving change (02:30 on a spring-forward night) does not
exist there and is refused; one that happens twice (autumn) is read as the first occurrence.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext


class InvalidClinicTime(ValueError):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


# Days so close to date.min/date.max that moving to UTC, adding a duration or taking the next day
# would overflow. Such a value is a typo; it is refused as invalid input rather than crashing.
EARLIEST_DAY = date.min + timedelta(days=2)
LATEST_DAY = date.max - timedelta(days=2)


def check_day_in_range(day: date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidClinicTime(
            gettext("%(day)s is out of range (%(earliest)s to %(latest)s).")
            % {
                "day": day.isoformat(),
                "earliest": EARLIEST_DAY.isoformat(),
                "latest": LATEST_DAY.isoformat(),
            },
            code="out_of_range",
        )


def clinic_zone(tenant) -> ZoneInfo:
    return ZoneInfo(tenant.timezone)


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach the clinic's zone to a wall-clock time, refusing one that does not exist there."""
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise InvalidClinicTime(
            gettext("%(time)s does not exist in %(zone)s (a daylight-saving change skips it).")
            % {"time": f"{naive:%Y-%m-%d %H:%M}", "zone": zone.key},
            code="nonexistent_time",
        )
    return aware


def refuse_non_ascii(value: str) -> None:
    """ISO 8601 is written in ASCII digits. Django's parsers match `\\d`, which also takes Arabic-
    Indic, full-width or mathematical digits (2026 written U+0662 U+0660 U+0662 U+0666), and
    Python's int() reads them, so without this check such a value is sometimes accepted and
    sometimes not, depending on the parser: one answer for all, a 400."""
    if not value.isascii():
        raise InvalidClinicTime(
            gettext("%(value)r is not an ISO 8601 date or date-time: write it in ASCII digits (0-9).")
            % {"value": value},
            code="invalid",
        )


def parse_clinic_datetime(value: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 date-time; with an offset it is taken as is, without one as clinic wall-clock time."""
    text = value.strip()
    refuse_non_ascii(text)
    try:
        parsed = parse_datetime(text)
    except ValueError:  # well-formed but impossible, e.g. February 30th
        raise InvalidClinicTime(
            gettext("%(value)r is not a valid date-time.") % {"value": value}, code="invalid"
        ) from None
    # parse_datetime also takes a bare date ("2025-12-15") as midnight: a booking at a time nobody
    # chose. A date-time must say its time of day.
    if parsed is None or not any(separator in text for separator in ("T", "t", " ")):
        raise InvalidClinicTime(
            gettext("%(value)r is not an ISO 8601 date-time (e.g. 2025-12-15T10:00:00).") % {"value": value},
            code="invalid",
        )
    check_day_in_range(parsed.date())
    return parsed if parsed.tzinfo is not None else localize(parsed, zone)


def parse_clinic_bound(value: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A filter bound: a date means the start of that day (or its end, for an upper bound) in the
    clinic's zone; a date-time is read as parse_clinic_datetime does."""
    value = value.strip()
    refuse_non_ascii(value)
    try:
        day = parse_date(value)
    except ValueError:
        raise InvalidClinicTime(
            gettext("%(value)r is not a valid date.") % {"value": value}, code="invalid"
        ) from None
    if day is not None:
        check_day_in_range(day)
        return day_start(day + timedelta(days=1) if end_of_day else day, zone)
    return parse_clinic_datetime(value, zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a day in the zone (midnight, or later if a DST change skips it)."""
    for minutes in range(0, 180, 30):
        try:
            return localize(datetime.combine(day, time()) + timedelta(minutes=minutes), zone)
        except InvalidClinicTime:
            continue
    raise AssertionError(f"no start of day found for {day} in {zone.key}")
