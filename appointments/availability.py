"""Free slots of a provider: working hours minus time off and booked appointments.

Pure computation over rows the selector has already loaded, so a month's availability costs the
same two queries as a day's.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from keneyapp.core.clinic_time import InvalidClinicTime, localize


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


def working_intervals(
    hours: Iterable[tuple[int, time, time]], date_from: date, date_to: date, zone: ZoneInfo
) -> list[Interval]:
    """Turn weekly hours (weekday, start, end in the clinic's zone) into dated intervals."""
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in hours:
        by_weekday.setdefault(weekday, []).append((start, end))
    intervals = []
    day = date_from
    while day <= date_to:
        for start, end in sorted(by_weekday.get(day.weekday(), [])):
            intervals.append(Interval(_wall_clock(day, start, zone), _wall_clock(day, end, zone)))
        day += timedelta(days=1)
    return intervals


def _wall_clock(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The instant, in UTC: slot arithmetic on clinic-zone datetimes would be wall-clock
    arithmetic, wrong across a daylight-saving change."""
    naive = datetime.combine(day, moment)
    try:
        return localize(naive, zone).astimezone(UTC)
    except InvalidClinicTime:  # inside a DST gap: the hours start when the clock resumes
        return (naive + timedelta(hours=1)).replace(tzinfo=zone).astimezone(UTC)


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """`free` minus every `busy` interval; both are lists of half-open [start, end) intervals."""
    result = []
    busy = sorted(busy, key=lambda b: b.start)
    for interval in free:
        cursor = interval.start
        for block in busy:
            if block.end <= cursor or block.start >= interval.end:
                continue
            if block.start > cursor:
                result.append(Interval(cursor, block.start))
            cursor = max(cursor, block.end)
            if cursor >= interval.end:
                break
        if cursor < interval.end:
            result.append(Interval(cursor, interval.end))
    return result


def slots(free: list[Interval], duration: timedelta, not_before: datetime) -> list[Interval]:
    """Consecutive slots of `duration` from the start of each free interval, none in the past."""
    found = []
    for interval in free:
        start = interval.start
        while start + duration <= interval.end:
            if start >= not_before:
                found.append(Interval(start, start + duration))
            start += duration
    return found


def is_within(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    return any(interval.start <= start and end <= interval.end for interval in intervals)
