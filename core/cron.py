"""Cron rules: validation and fire times, on croniter.

A rule has five fields (minute hour day month weekday, as in crontab) or six with
seconds first (rework's rules). Fire times are computed in the schedule's time zone, so
"0 9 * * mon-fri" means nine in the morning where the schedule was prepared, across
daylight-saving changes, whichever host's monitor fires it.
"""
import os
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter, CroniterError

from .errors import BadInput

_TICK = timedelta(microseconds=1)


def normal(rule):
    """The rule with its fields separated by single spaces (what is stored and compared)."""
    return " ".join(rule.split()) if isinstance(rule, str) else rule


def check(rule, tz="UTC"):
    """Raise BadInput unless `rule` and `tz` make a usable schedule."""
    zone(tz)
    fields = rule.split() if isinstance(rule, str) else []
    if len(fields) not in (5, 6):
        raise BadInput(f"a cron rule has five fields (minute hour day month weekday) or six "
                       f"(second first), got {rule!r}")
    if any(token.upper() in ("R", "H") or token.upper().startswith("H(")
           for f in fields for token in re.split(r"[,\-/#]", f)):
        # croniter's random and hashed fields would pick another time at each reading:
        # monitors would disagree on when a schedule is due
        raise BadInput(f"random (R) and hashed (H) cron fields are not supported: {rule!r}")
    try:
        croniter(rule, datetime.now(timezone.utc), second_at_beginning=len(fields) == 6)
    except (CroniterError, ValueError) as exc:
        raise BadInput(f"invalid cron rule {rule!r}: {exc}") from None
    try:
        first_at_or_after(rule, tz, datetime.now(timezone.utc))
    except CroniterError:
        raise BadInput(f"cron rule {rule!r} never fires (a day that no month has?)") from None


def zone(tz):
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise BadInput(f"unknown time zone {tz!r} (an IANA name like Europe/Paris or UTC)") \
            from None


def local_zone():
    """This machine's IANA zone name ($TZ, else /etc/localtime's target), or UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        candidates.append(target.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in target else "")
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return "UTC" if name in _UTC_ALIASES else name
    return "UTC"


_UTC_ALIASES = {"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}


def fire_times(rule, tz, start, until=None):
    """Fire times at or after `start` (and at or before `until`), as UTC datetimes,
    strictly increasing."""
    fields = rule.split()
    six = len(fields) == 6
    zone_ = zone(tz)
    # As cron does when clocks go back, a rule for fixed hours fires once in the
    # repeated hour; one for every hour (or every n hours: '*' first) follows real time.
    fixed_hours = not fields[2 if six else 1].startswith("*")
    # Start from the fire time before `start`, not from just before it: around a
    # daylight-saving change croniter may return a time earlier than where it started
    # (the repeated hour) or skip the moved one (the lost hour) when started mid-way.
    anchor = croniter(rule, start.astimezone(zone_), second_at_beginning=six).get_prev(datetime)
    itr = croniter(rule, anchor, second_at_beginning=six)
    last = anchor.astimezone(timezone.utc)
    # the latest wall time fired: in the repeated hour, wall times go back, and a rule
    # for fixed hours must not fire a time it already fired in the first pass
    last_wall = _wall(last, zone_)
    while True:
        t = itr.get_next(datetime).astimezone(timezone.utc)
        if t <= last or t < start:
            continue
        last = t
        if fixed_hours and _wall(t, zone_) <= last_wall:
            continue
        if until is not None and t > until:
            return
        last_wall = _wall(t, zone_)
        yield t


def _wall(moment, zone_):
    return moment.astimezone(zone_).replace(tzinfo=None)


def first_at_or_after(rule, tz, start):
    return next(fire_times(rule, tz, start))


def first_after(rule, tz, moment):
    return first_at_or_after(rule, tz, moment + _TICK)


def last_before(rule, tz, end):
    """The last fire time strictly before `end`."""
    itr = croniter(rule, end.astimezone(zone(tz)), second_at_beginning=len(rule.split()) == 6)
    return itr.get_prev(datetime).astimezone(timezone.utc)
