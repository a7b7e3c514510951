"""Cron rules (jobconsole.cron): which rules are accepted, and when they fire.

Every moment here is an aware UTC datetime, as fire times are; the zones are IANA names.
"""
from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest

from jobconsole import cron
from jobconsole.errors import BadInput

UTC = timezone.utc
PARIS = "Europe/Paris"
# a Monday in winter: Paris is UTC+1
MONDAY_9H = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def local(moment, tz):
    """'HH:MM+ZZZZ', the wall clock a person in `tz` read at `moment`."""
    return moment.astimezone(cron.zone(tz)).strftime("%H:%M%z")


def firing(rule, tz, start, hours):
    return list(cron.fire_times(rule, tz, start, start + timedelta(hours=hours)))


# --- accepted and refused rules ------------------------------------------------------

@pytest.mark.parametrize("rule", [
    "30 9 * * *",              # five fields: minute hour day month weekday
    "*/20 * * * * *",          # six: seconds first
    "0 9 * * mon-fri",         # names of days
    "0 0 1 jan,jul *",         # names of months
    "1-5/2 * * * *",           # ranges with steps
    "0 0 * * 1#2",             # the second Monday of the month
    "0 0 L * *",               # the last day of the month
    "0 0 29 2 *",              # the 29th of February exists, once in four years
    " 0  9 *\t* *\n",          # any whitespace separates fields
])
def test_a_usable_rule_passes_the_check(rule):
    cron.check(rule, "UTC")


@pytest.mark.parametrize("rule", ["* * * *", "* * * * * * *", "", "@daily", None, 42])
def test_a_rule_needs_five_or_six_fields(rule):
    with pytest.raises(BadInput, match="five fields .* or six"):
        cron.check(rule, "UTC")


@pytest.mark.parametrize("rule", ["R * * * *", "H 2 * * *", "0 H(0-5) * * *", "0 0 * * 1-R"])
def test_random_and_hashed_fields_are_refused_wherever_they_appear(rule):
    # croniter would pick another time at each reading: monitors would disagree on when
    # the schedule is due
    with pytest.raises(BadInput, match="random .R. and hashed .H."):
        cron.check(rule, "UTC")


@pytest.mark.parametrize("rule", ["61 * * * *", "0 24 * * *", "0 0 * * 8", "0 0 32 * *",
                                  "a b c d e"])
def test_a_field_out_of_range_or_unreadable_is_refused(rule):
    with pytest.raises(BadInput, match="invalid cron rule"):
        cron.check(rule, "UTC")


@pytest.mark.parametrize("rule", ["0 0 30 2 *", "0 0 31 4 *"])
def test_a_rule_for_a_day_no_month_has_is_refused_as_never_firing(rule):
    with pytest.raises(BadInput, match="never fires"):
        cron.check(rule, "UTC")


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", None, "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused(tz):
    with pytest.raises(BadInput, match="unknown time zone"):
        cron.check("0 9 * * *", tz)


def test_the_time_zone_is_checked_even_when_the_rule_is_wrong_too():
    # the zone is checked first: a bad zone is reported whatever the rule
    with pytest.raises(BadInput, match="unknown time zone"):
        cron.check("not a rule", "Nowhere")


def test_a_rule_is_stored_with_single_spaces_between_its_fields():
    assert cron.normal(" 0  9 *\t* *\n") == "0 9 * * *"


def test_normal_leaves_what_is_not_text_for_check_to_refuse():
    assert cron.normal(None) is None


# --- fire times ----------------------------------------------------------------------

def test_a_rule_fires_on_the_wall_clock_of_its_time_zone_in_winter_and_summer():
    first = cron.first_at_or_after("30 9 * * *", PARIS, MONDAY_9H)
    assert first == datetime(2026, 1, 6, 8, 30, tzinfo=UTC)      # 09:30 in Paris, CET
    in_summer = cron.first_at_or_after("30 9 * * *", PARIS, datetime(2026, 7, 1, tzinfo=UTC))
    assert in_summer == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # 09:30 in Paris, CEST


def test_the_first_of_six_fields_is_the_seconds():
    assert firing("*/20 * * * * *", "UTC", MONDAY_9H, 1 / 60) == [
        MONDAY_9H + timedelta(seconds=s) for s in (0, 20, 40, 60)]
    # the same text read as seconds: the top of every hour, not every minute
    assert cron.first_after("0 0 * * * *", "UTC", MONDAY_9H) == MONDAY_9H + timedelta(hours=1)


def test_fire_times_are_utc_and_strictly_increasing_between_their_bounds():
    times = firing("*/15 * * * *", "Asia/Kolkata", MONDAY_9H, 2)
    assert times[0] == MONDAY_9H and times[-1] == MONDAY_9H + timedelta(hours=2)
    assert all(t.tzinfo == UTC for t in times)
    assert [b - a for a, b in zip(times, times[1:])] == [timedelta(minutes=15)] * 8


def test_without_an_end_fire_times_go_on():
    times = list(islice(cron.fire_times("0 9 * * mon-fri", "UTC", MONDAY_9H), 6))
    # Monday to Friday, then the next Monday: the weekend is skipped
    assert [t.strftime("%a %d") for t in times] == [
        "Mon 05", "Tue 06", "Wed 07", "Thu 08", "Fri 09", "Mon 12"]


def test_first_at_or_after_includes_its_start_and_first_after_does_not():
    assert cron.first_at_or_after("0 9 * * *", "UTC", MONDAY_9H) == MONDAY_9H
    assert cron.first_after("0 9 * * *", "UTC", MONDAY_9H) == MONDAY_9H + timedelta(days=1)
    # a microsecond past a fire time is past it
    later = MONDAY_9H + timedelta(microseconds=1)
    assert cron.first_at_or_after("0 9 * * *", "UTC", later) == MONDAY_9H + timedelta(days=1)


def test_last_before_is_strictly_before_its_end():
    assert cron.last_before("0 9 * * *", "UTC", MONDAY_9H) == MONDAY_9H - timedelta(days=1)
    assert cron.last_before("0 9 * * *", PARIS, MONDAY_9H) == datetime(2026, 1, 5, 8, tzinfo=UTC)


def test_the_29th_of_february_waits_for_a_leap_year():
    assert cron.first_at_or_after("0 0 29 2 *", "UTC", MONDAY_9H) == datetime(2028, 2, 29, tzinfo=UTC)


def test_fire_times_around_daylight_saving_changes_are_neither_lost_nor_repeated():
    paris = "Europe/Paris"
    for day, rule, expected in [
        # spring: 02:00-03:00 does not exist; a job at 02:30 runs at 03:00, once
        ((2026, 3, 29), "30 2 * * *", ["01:00"]),
        ((2026, 3, 29), "0 3 * * *", ["01:00"]),
        # autumn: 02:00-03:00 comes twice; a daily job still runs once
        ((2026, 10, 25), "30 2 * * *", ["00:30"]),
    ]:
        start = datetime(*day, tzinfo=timezone.utc) - timedelta(hours=2)
        times = [t.strftime("%H:%M") for t in cron.fire_times(rule, paris, start,
                                                              start + timedelta(hours=8))]
        assert times == expected, (day, rule)
        # a monitor ticking through the night makes the same times, each once
        fired, next_fire, now = [], cron.first_at_or_after(rule, paris, start), start
        while now < start + timedelta(hours=8):
            if next_fire <= now:
                fired += list(cron.fire_times(rule, paris, next_fire, now))
                next_fire = cron.first_after(rule, paris, now)
                assert next_fire > now
            now += timedelta(seconds=30)
        assert [t.strftime("%H:%M") for t in fired] == expected, (day, rule)


def test_an_hourly_rule_fires_every_hour_across_both_changes():
    for day in ((2026, 3, 29), (2026, 10, 25)):
        start = datetime(*day, tzinfo=timezone.utc) - timedelta(hours=3)
        times = list(cron.fire_times("0 * * * *", "Europe/Paris", start,
                                     start + timedelta(hours=6)))
        assert [b - a for a, b in zip(times, times[1:])] == [timedelta(hours=1)] * 6


def test_a_rule_every_few_minutes_follows_real_time_through_the_repeated_hour():
    # '*' in the hours: the rule is about elapsed time, so the hour that comes twice
    # gets its quarters twice, and the gaps stay fifteen minutes
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)              # 02:30 CEST
    times = firing("*/15 * * * *", PARIS, start, 1)
    assert [local(t, PARIS) for t in times] == [
        "02:30+0200", "02:45+0200", "02:00+0100", "02:15+0100", "02:30+0100"]


def test_a_six_field_rule_for_a_fixed_time_fires_once_in_the_repeated_hour():
    # the hours are the third field of a six-field rule
    start = datetime(2026, 10, 25, tzinfo=UTC) - timedelta(hours=2)
    assert [local(t, PARIS) for t in firing("0 30 2 * * *", PARIS, start, 8)] == ["02:30+0200"]


def test_daylight_saving_changes_are_those_of_the_schedules_own_zone():
    # Sydney changes on other days and the other way round: clocks go back in April
    start = datetime(2026, 4, 4, 12, tzinfo=UTC)
    assert [local(t, "Australia/Sydney") for t in firing("30 2 * * *", "Australia/Sydney",
                                                         start, 24)] == ["02:30+1100"]
    # and forward in October: 02:30 does not exist, the task runs at 03:00, once
    start = datetime(2026, 10, 3, 12, tzinfo=UTC)
    assert [local(t, "Australia/Sydney") for t in firing("30 2 * * *", "Australia/Sydney",
                                                         start, 24)] == ["03:00+1100"]


def test_a_fixed_hour_rule_with_several_minutes_fires_each_of_them_once_in_the_repeated_hour():
    # cron.fire_times: "a rule for fixed hours fires once in the repeated hour"
    start = datetime(2026, 10, 25, tzinfo=UTC) - timedelta(hours=2)
    assert [local(t, PARIS) for t in firing("0,30 2 * * *", PARIS, start, 8)] == [
        "02:00+0200", "02:30+0200"]


# --- this machine's zone -------------------------------------------------------------

def test_the_local_zone_is_the_one_tz_names(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert cron.local_zone() == "America/New_York"
    # POSIX allows a leading colon before a zone file's name
    monkeypatch.setenv("TZ", ":Europe/Paris")
    assert cron.local_zone() == "Europe/Paris"


@pytest.mark.parametrize("alias", ["Etc/UTC", "Etc/Universal", "Zulu", "UTC"])
def test_the_local_zone_calls_utc_by_one_name(alias, monkeypatch):
    monkeypatch.setenv("TZ", alias)
    assert cron.local_zone() == "UTC"


def test_an_unknown_tz_is_ignored_for_the_systems_zone(monkeypatch):
    monkeypatch.delenv("TZ", raising=False)
    system = cron.local_zone()
    monkeypatch.setenv("TZ", "Nowhere/Land")
    assert cron.local_zone() == system
    cron.zone(system)    # whatever it is, it is a zone a schedule can use
