"""Cron rules: validation and fire times, on croniter.

A rule has five fields (minute hour day month weekday, as in crontab) or six with
seconds first (rework's rules). Fire times are computed in the schedule's time zone, so
"0 9 * * mon-fri" means nine in the morning where the schedule was prepared, across
daylight-saving changes, whichever host's monitor fires it.
"""
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter, CroniterError

from .errors import BadInput

_TICK = timedelta(microseconds=1)


def check(rule, tz="UTC"):
    """Raise BadInput unless `rule` and `tz` make a usable schedule."""
    zone(tz)
    fields = rule.split() if isinstance(rule, str) else []
    if len(fields) not in (5, 6):
        raise BadInput(f"a cron rule has five fields (minute hour day month weekday) or six "
                       f"(second first), got {rule!r}")
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
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def fire_times(rule, tz, start, until=None):
    """Fire times at or after `start` (and at or before `until`), as UTC datetimes."""
    itr = croniter(rule, start.astimezone(zone(tz)) - _TICK,
                   second_at_beginning=len(rule.split()) == 6)
    while True:
        t = itr.get_next(datetime).astimezone(timezone.utc)
        if until is not None and t > until:
            return
        yield t


def first_at_or_after(rule, tz, start):
    return next(fire_times(rule, tz, start))


def last_before(rule, tz, end):
    """The last fire time strictly before `end`."""
    itr = croniter(rule, end.astimezone(zone(tz)), second_at_beginning=len(rule.split()) == 6)
    return itr.get_prev(datetime).astimezone(timezone.utc)
