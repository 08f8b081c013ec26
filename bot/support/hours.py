"""Office hours and the weekly report time: parsing the settings and answering "is this moment inside?".

Everything is computed in the configured IANA time zone (zoneinfo), so summer time is handled; the original
tool compared in UTC and was an hour off half the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): index for index, name in enumerate(DAY_NAMES)}
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
UTC = ZoneInfo("UTC")


class HoursError(ValueError):
    """A malformed day list, clock time or time zone; the message says what is expected."""


def parse_days(text: str) -> frozenset[int]:
    """`Mon-Fri`, `Sun-Thu` (wraps), `Mon,Wed,Fri` or `daily` -> weekday numbers (Monday = 0)."""
    lowered = text.strip().lower()
    if lowered in ("daily", "every day", "mon-sun"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in lowered.split(","):
        first, _, last = part.strip().partition("-")
        if first[:3] not in _DAY_INDEX or (last and last[:3] not in _DAY_INDEX) or len(first) < 3:
            raise HoursError(f"unknown day {part.strip()!r} (use Mon, Tue, … Sun, ranges like Mon-Fri, or lists)")
        start = _DAY_INDEX[first[:3]]
        end = _DAY_INDEX[last[:3]] if last else start
        days.update((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return frozenset(days)


def parse_clock(text: str) -> time:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise HoursError(f"{text.strip()!r} is not a time of day like 09:00")
    return time(int(match[1]), int(match[2]))


def parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HoursError(f"unknown time zone {text.strip()!r} (use an IANA name such as Europe/London)") from error


def describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]}-{DAY_NAMES[ordered[-1]]}"
    return ",".join(DAY_NAMES[d] for d in ordered)


@dataclass(frozen=True)
class OfficeHours:
    """`Mon-Fri 09:00-17:00 Europe/London`. An end at or before the start runs past midnight."""

    days: frozenset[int]
    start: time
    end: time
    zone: ZoneInfo

    def contains(self, epoch: float) -> bool:
        local = datetime.fromtimestamp(epoch, self.zone)
        moment, weekday = local.time(), local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= moment < self.end
        # Overnight hours belong to the day they started on.
        return (weekday in self.days and moment >= self.start) or ((weekday - 1) % 7 in self.days and moment < self.end)

    def describe(self) -> str:
        return f"{describe_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


def parse_office_hours(text: str) -> OfficeHours:
    parts = text.split()
    if len(parts) not in (2, 3) or "-" not in parts[1]:
        raise HoursError("expected days, hours and an optional time zone, such as Mon-Fri 09:00-17:00 Europe/London")
    start_text, _, end_text = parts[1].partition("-")
    zone = parse_zone(parts[2]) if len(parts) == 3 else UTC
    hours = OfficeHours(parse_days(parts[0]), parse_clock(start_text), parse_clock(end_text), zone)
    if hours.start == hours.end:
        raise HoursError("office hours must not start and end at the same time")
    return hours


@dataclass(frozen=True)
class WeeklyTime:
    """A time of day on some weekdays, such as the daily report at `Mon-Fri 09:00` in a time zone."""

    days: frozenset[int]
    at: time
    zone: ZoneInfo

    def _moment(self, day: date) -> float:
        return datetime.combine(day, self.at, tzinfo=self.zone).timestamp()

    def next_after(self, epoch: float) -> float:
        """The first occurrence strictly after `epoch`."""
        today = datetime.fromtimestamp(epoch, self.zone).date()
        for offset in range(8):
            day = today + timedelta(days=offset)
            if day.weekday() in self.days and self._moment(day) > epoch:
                return self._moment(day)
        raise AssertionError("a weekly time always recurs within 8 days")

    def latest_at_or_before(self, epoch: float) -> float:
        today = datetime.fromtimestamp(epoch, self.zone).date()
        for offset in range(8):
            day = today - timedelta(days=offset)
            if day.weekday() in self.days and self._moment(day) <= epoch:
                return self._moment(day)
        raise AssertionError("a weekly time always recurs within 8 days")

    def local_date(self, epoch: float) -> date:
        return datetime.fromtimestamp(epoch, self.zone).date()

    def previous_working_day(self, epoch: float) -> date:
        """The last report day before the local day of `epoch` (Friday, for a Monday report)."""
        today = self.local_date(epoch)
        for offset in range(1, 8):
            day = today - timedelta(days=offset)
            if day.weekday() in self.days:
                return day
        raise AssertionError("unreachable")

    def start_of(self, day: date) -> float:
        return datetime.combine(day, time(0, 0), tzinfo=self.zone).timestamp()

    def describe(self) -> str:
        return f"{describe_days(self.days)} {self.at:%H:%M} {self.zone.key}"


def parse_weekly_time(text: str, default_zone: ZoneInfo) -> WeeklyTime:
    parts = text.split()
    if len(parts) not in (2, 3):
        raise HoursError("expected days, a time and an optional time zone, such as Mon-Fri 09:00 Europe/London")
    zone = parse_zone(parts[2]) if len(parts) == 3 else default_zone
    return WeeklyTime(parse_days(parts[0]), parse_clock(parts[1]), zone)


def short_date(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {day:%b}"


def age(seconds: float) -> str:
    """`45m`, `5h`, `3d` — how long a ticket has been open."""
    if seconds < 3600:
        return f"{max(int(seconds // 60), 1)}m"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"
