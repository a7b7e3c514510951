"""Records as the database would return them, built in memory: a queued task and a
schedule with plausible values, each field overridable by keyword.

Imported by the unit tests by name (`from samples import task_info`).
"""
from datetime import datetime, timezone

from jobconsole.schedules import ScheduleInfo
from jobconsole.tasks import TaskInfo

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def task_info(**changes):
    values = dict(
        id=1, operation="resize_images", domain="default", host=None, status="queued",
        input={"count": 5}, raw_input=None, output=None, raw_output=None, error_kind=None,
        traceback=None, owner=None, metadata=None, priority=0, timeout=None, attempt=0,
        retries=0, worker_id=None, queued=T0, claimed=None, started=None, finished=None,
        run_at=None, backoff=0.0, retry_on=["error", "timeout", "crash"],
        progress_done=None, progress_total=None, progress_message=None, facet=None,
        has_dependents=False, schedule_id=None, fire_time=None, workflow=None,
        action_id=None)
    return TaskInfo(**{**values, **changes})


def schedule_info(**changes):
    values = dict(
        id=1, operation="resize_images", domain="default", host=None, rule="*/5 * * * *",
        timezone="UTC", input={"count": 3}, raw_input=None, owner=None, metadata=None,
        priority=0, missed="once", paused=False, next_fire=T0, last_fire=None,
        last_task_id=None, missed_count=0, last_missed=None, last_error=None, created=T0,
        last_task_status=None)
    return ScheduleInfo(**{**values, **changes})
