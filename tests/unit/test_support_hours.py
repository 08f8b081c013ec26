"""Office hours and the weekly report time, in the configured time zone (summer time included)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.support.hours import HoursError, age, parse_days, parse_office_hours, parse_weekly_time, short_date

LONDON = ZoneInfo("Europe/London")


def at(text: str, zone: ZoneInfo = LONDON) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_days():
    assert parse_days("Mon-Fri") == frozenset(range(5))
    assert parse_days("sun-tue") == frozenset({6, 0, 1})
    assert parse_days("Mon,Wed,friday") == frozenset({0, 2, 4})
    assert parse_days("daily") == frozenset(range(7))
    with pytest.raises(HoursError):
        parse_days("Funday")


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        ("2024-07-01 09:00", True),  # Monday, summer time: 08:00 UTC
        ("2024-07-01 08:59", False),
        ("2024-07-01 16:59", True),
        ("2024-07-01 17:00", False),
        ("2024-07-06 12:00", False),  # Saturday
        ("2024-01-08 09:30", True),  # winter
    ],
)
def test_office_hours_in_the_local_time_zone(moment, inside):
    hours = parse_office_hours("Mon-Fri 09:00-17:00 Europe/London")
    assert hours.contains(at(moment)) is inside


def test_office_hours_default_to_utc_and_may_run_overnight():
    utc = ZoneInfo("UTC")
    hours = parse_office_hours("Mon-Fri 22:00-06:00")
    assert hours.zone.key == "UTC"
    assert hours.contains(at("2024-07-01 23:00", utc))  # Monday night
    assert hours.contains(at("2024-07-02 05:00", utc))  # still Monday's shift
    assert not hours.contains(at("2024-07-01 05:00", utc))  # Sunday's shift does not exist
    assert hours.describe() == "Mon-Fri 22:00-06:00 UTC"


@pytest.mark.parametrize("text", ["Mon-Fri", "Mon-Fri 9-5", "Mon-Fri 09:00-17:00 Mars/Olympus", "Mon 09:00-09:00"])
def test_bad_office_hours_are_refused(text):
    with pytest.raises(HoursError):
        parse_office_hours(text)


def test_report_time_next_and_latest_and_previous_working_day():
    report = parse_weekly_time("Mon-Fri 09:00", LONDON)
    friday_noon = at("2024-07-05 12:00")
    assert report.next_after(friday_noon) == at("2024-07-08 09:00")  # Monday
    assert report.latest_at_or_before(friday_noon) == at("2024-07-05 09:00")
    assert report.next_after(at("2024-07-08 09:00")) == at("2024-07-09 09:00")  # strictly after
    assert report.previous_working_day(at("2024-07-08 09:00")).isoformat() == "2024-07-05"
    assert report.start_of(report.local_date(friday_noon)) == at("2024-07-05 00:00")
    assert parse_weekly_time("Mon-Fri 09:00 UTC", LONDON).zone.key == "UTC"
    assert report.describe() == "Mon-Fri 09:00 Europe/London"


def test_report_time_across_a_summer_time_change():
    report = parse_weekly_time("daily 09:00", LONDON)
    assert report.next_after(at("2024-03-30 12:00")) == at("2024-03-31 09:00")  # 08:00 UTC on the change day


def test_short_forms():
    assert short_date(datetime(2024, 7, 5).date()) == "Fri 5 Jul"
    assert [age(s) for s in (30, 1800, 7200, 86400 * 3)] == ["1m", "30m", "2h", "3d"]
