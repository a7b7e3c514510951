"""Cron schedules: rules, one task per fire time however many monitors, missed runs."""
import json
from datetime import timedelta, timezone

import pytest
from helpers import env, wait_for
from test_cli import assert_one_line_error, jc

from jobconsole import api, schedules
from jobconsole.errors import BadInput, NotFound

EVERY_SECOND = "* * * * * *"


def fired_times(dsn, sid):
    return [t.fire_time for t in reversed(api.list_tasks(dsn, limit=10_000))
            if t.schedule_id == sid and t.fire_time is not None]


def test_a_five_field_rule_fires_at_its_minute_in_its_time_zone(dsn):
    sched = api.prepare(dsn, "double", "30 9 * * *", 1, tz="Europe/Paris")
    local = sched.next_fire.astimezone(timezone(timedelta(hours=1)))   # CET in November
    assert (local.hour, local.minute, local.second) == (9, 30, 0)
    assert sched.timezone == "Europe/Paris" and sched.domain == "default"


def test_a_six_field_rule_has_seconds_first(dsn):
    sched = api.prepare(dsn, "double", "*/20 * * * * *", 1)
    assert sched.next_fire.second in (0, 20, 40)
    plan = api.scheduled_plan(dsn, hours=1 / 60)
    assert len(plan) == 3 and all(t.second % 20 == 0 for t, _ in plan)


def test_preparing_twice_replaces_instead_of_duplicating(dsn):
    first = api.prepare(dsn, "double", "0 * * * *", {"n": 1, "m": 2}, owner="alice")
    again = api.prepare(dsn, "double", "0 * * * *", {"m": 2, "n": 1}, owner="bob", priority=5)
    other = api.prepare(dsn, "double", "0 * * * *", {"n": 2})
    assert again.id == first.id != other.id
    assert [(s.id, s.owner, s.priority) for s in api.list_scheduled(dsn)] == [
        (first.id, "bob", 5), (other.id, None, 0)]


@pytest.mark.parametrize("args, error", [
    (("double", "every day"), BadInput),
    (("double", "* * * * * * *"), BadInput),
    (("double", "61 * * * *"), BadInput),
    (("double", "0 0 30 2 *"), BadInput),             # never fires
    (("nosuchop", "* * * * *"), NotFound),
])
def test_a_bad_schedule_is_refused_and_nothing_is_stored(dsn, args, error):
    with pytest.raises(error):
        api.prepare(dsn, *args)
    assert api.list_scheduled(dsn) == []


def test_a_bad_time_zone_input_or_policy_is_refused(dsn):
    for kwargs in (dict(tz="Mars/Olympus"), dict(missed="sometimes"),
                   dict(input=object()), dict(input=1, rawinput=b"x")):
        with pytest.raises(BadInput):
            api.prepare(dsn, "double", "* * * * *", **kwargs)
    assert api.list_scheduled(dsn) == []


def test_a_monitor_fires_each_second_of_a_six_field_rule(dsn, start_monitor):
    start_monitor()
    sched = api.prepare(dsn, "double", EVERY_SECOND, 4)
    times = wait_for(lambda: (lambda t: t if len(t) >= 3 else None)(fired_times(dsn, sched.id)),
                     10, "three fire times")
    assert all(b - a == timedelta(seconds=1) for a, b in zip(times, times[1:]))
    first = [t for t in api.list_tasks(dsn) if t.fire_time == times[0]][0]
    assert api.get_task(dsn, first.id).join(timeout=10).output == 8
    info = [s for s in api.list_scheduled(dsn) if s.id == sched.id][0]
    assert info.last_fire >= times[-1] and info.next_fire > info.last_fire
    assert info.last_task_id is not None and info.missed_count == 0


def test_three_monitors_make_exactly_one_task_per_fire_time(dsn, start_monitor):
    monitors = [start_monitor(host=f"host-{n}") for n in range(3)]
    sched = api.prepare(dsn, "double", EVERY_SECOND, 1)
    wait_for(lambda: len(fired_times(dsn, sched.id)) >= 5, 15, "five fire times")
    api.pause_schedule(dsn, sched.id)
    times = fired_times(dsn, sched.id)
    assert len(times) == len(set(times)), "a fire time made two tasks"
    assert all(b - a == timedelta(seconds=1) for a, b in zip(times, times[1:])), "a gap"
    assert all(m.proc.poll() is None for m in monitors)


def test_the_database_refuses_a_second_task_for_one_fire_time(dsn, sql_conn):
    sched = api.prepare(dsn, "double", EVERY_SECOND, 1)
    made = []
    for _ in range(2):
        with api.db.pooled(dsn) as conn:
            made.append(api.tasks.insert(conn, "double", [1], fired=(sched.id, sched.next_fire)))
    assert len(made[0]) == 1 and made[1] == []


def backdate(sql_conn, sid, minutes):
    """As if no monitor had run for `minutes`: the fire times since are due."""
    sql_conn.execute(
        "update jobconsole.schedule set next_fire = date_trunc('minute', now()) "
        "- make_interval(mins => %s) where id = %s", (minutes, sid))


def fire(dsn, grace=60):
    with api.db.pooled(dsn) as conn:
        return schedules.fire_due(conn, grace)


def test_missed_fire_times_run_once_on_recovery(dsn, sql_conn, caplog):
    sched = api.prepare(dsn, "double", "* * * * *", 1)       # policy 'once', the default
    backdate(sql_conn, sched.id, 30)
    made = fire(dsn)
    times = fired_times(dsn, sched.id)
    # the missed ones (older than the grace minute) make one task, a due one its own
    assert made == len(times) and 1 <= len(times) <= 2
    info = api.list_scheduled(dsn)[0]
    assert info.missed_count >= 28 and info.last_missed == times[0]
    assert "missed" in caplog.text and "running it once" in caplog.text
    assert fire(dsn) == 0                                      # handled: nothing fires again


def test_missed_fire_times_are_skipped_and_logged_by_policy(dsn, sql_conn, caplog):
    sched = api.prepare(dsn, "double", "* * * * *", 1, missed="skip")
    backdate(sql_conn, sched.id, 30)
    fire(dsn)
    info = api.list_scheduled(dsn)[0]
    assert all(t > info.last_missed for t in fired_times(dsn, sched.id))
    assert info.missed_count >= 29 and "skipped" in caplog.text


def test_a_long_outage_is_counted_without_walking_every_second(dsn, sql_conn):
    sched = api.prepare(dsn, "double", EVERY_SECOND, 1)
    backdate(sql_conn, sched.id, 60 * 24 * 30)                 # a month of seconds
    fire(dsn, grace=5)
    assert api.list_scheduled(dsn)[0].missed_count >= 999
    assert len(fired_times(dsn, sched.id)) <= 8


def test_a_monitor_recovers_missed_runs_after_an_outage(dsn, sql_conn, start_monitor):
    sched = api.prepare(dsn, "double", "* * * * *", 1)
    backdate(sql_conn, sched.id, 5)
    with env(JOBCONSOLE_SCHEDULE_GRACE="5"):
        mon = start_monitor()
    wait_for(lambda: fired_times(dsn, sched.id), 10, "the recovery run")
    assert api.list_scheduled(dsn)[0].missed_count >= 3
    mon.stop()
    assert "missed" in mon.output()


def test_a_paused_schedule_does_not_fire_and_resumes_from_now(dsn, sql_conn):
    sched = api.prepare(dsn, "double", "* * * * *", 1)
    api.pause_schedule(dsn, sched.id)
    backdate(sql_conn, sched.id, 10)
    assert fire(dsn) == 0
    resumed = api.resume_schedule(dsn, sched.id)
    assert not resumed.paused and resumed.next_fire > sched.created
    assert fire(dsn) == 0 and api.list_scheduled(dsn)[0].missed_count == 0


def test_run_now_queues_a_task_outside_the_rule(dsn):
    sched = api.prepare(dsn, "double", "0 0 1 1 *", 5, owner="alice", priority=3)
    api.pause_schedule(dsn, sched.id)
    info = api.run_schedule(dsn, sched.id).info()
    assert (info.input, info.owner, info.priority, info.schedule_id, info.fire_time) == (
        5, "alice", 3, sched.id, None)
    assert api.list_scheduled(dsn)[0].last_task_id == info.id


def test_unprepare_deletes_the_schedule_but_not_its_tasks(dsn):
    sched = api.prepare(dsn, "double", "* * * * *", 1)
    task = api.run_schedule(dsn, sched.id)
    api.unprepare(dsn, sched.id)
    assert api.list_scheduled(dsn) == []
    assert task.info().schedule_id is None
    with pytest.raises(NotFound):
        api.unprepare(dsn, sched.id)


def test_a_schedule_whose_operation_is_gone_records_why(dsn, sql_conn):
    sched = api.prepare(dsn, "double", "* * * * *", 1)
    sql_conn.execute("delete from jobconsole.operation where name = 'double'")
    backdate(sql_conn, sched.id, 1)
    assert fire(dsn) == 0
    info = api.list_scheduled(dsn)[0]
    assert "unknown operation 'double'" in info.last_error
    assert info.next_fire > info.created            # it moved on: no retry storm


def test_the_cli_prepares_lists_plans_and_unprepares(dsn):
    code, out, _ = jc(dsn, "prepare", "double", "*/15 * * * *", "--input", "2",
                      "--tz", "UTC", "--missed", "skip")
    assert code == 0 and "prepared schedule" in out
    sid = api.list_scheduled(dsn)[0].id
    code, out, _ = jc(dsn, "list-scheduled")
    assert code == 0 and "*/15 * * * *" in out and "skip" in out
    code, out, _ = jc(dsn, "list-scheduled", "--json")
    assert json.loads(out)[0]["rule"] == "*/15 * * * *"
    code, out, _ = jc(dsn, "scheduled-plan", "--hours", "1", "--json")
    assert code == 0 and len(json.loads(out)) == 4
    assert jc(dsn, "pause-schedule", str(sid))[0] == 0
    assert api.list_scheduled(dsn)[0].paused
    assert jc(dsn, "resume-schedule", str(sid))[0] == 0
    code, out, _ = jc(dsn, "run-schedule", str(sid))
    assert code == 0 and api.get_task(dsn, int(out)).info().schedule_id == sid
    assert jc(dsn, "unprepare", str(sid))[0] == 0
    assert api.list_scheduled(dsn) == []


@pytest.mark.parametrize("args, code", [
    (("prepare", "double", "every day"), 2),
    (("prepare", "double", "* * * * *", "--input", "{oops"), 2),
    (("prepare", "nosuchop", "* * * * *"), 3),
    (("unprepare", "999"), 3),
    (("run-schedule", "999"), 3),
])
def test_cli_schedule_errors_are_one_line(dsn, args, code):
    got, _, err = jc(dsn, *args)
    assert got == code
    assert_one_line_error(err)
    assert api.list_scheduled(dsn) == []


def test_a_turn_makes_at_most_a_thousand_tasks_and_the_next_carries_on(dsn, sql_conn):
    sched = api.prepare(dsn, "double", EVERY_SECOND, 1)
    backdate(sql_conn, sched.id, 20)                            # 1,200 due seconds
    assert fire(dsn, grace=3600) == 1000
    assert fire(dsn, grace=3600) >= 200
    times = fired_times(dsn, sched.id)
    assert len(times) == len(set(times)) and api.list_scheduled(dsn)[0].missed_count == 0
    assert all(b - a == timedelta(seconds=1) for a, b in zip(times, times[1:]))


def test_rules_are_compared_by_their_fields_and_inputs_by_value(dsn):
    first = api.prepare(dsn, "double", "0 0 * * *", {1: "a", "b": 2})
    again = api.prepare(dsn, "double", " 0  0 * * *\n", {"b": 2, "1": "a"})
    assert again.id == first.id and again.rule == "0 0 * * *"


def test_random_and_hashed_fields_are_refused(dsn):
    for rule in ("R * * * *", "H 2 * * *", "0 9 * * mon-fri"):
        if rule.startswith(("R", "H")):
            with pytest.raises(BadInput):
                api.prepare(dsn, "double", rule, 1)
        else:
            api.prepare(dsn, "double", rule, 1)
    assert [s.rule for s in api.list_scheduled(dsn)] == ["0 9 * * mon-fri"]


@pytest.mark.parametrize("hours", ["nan", "inf", "1e9", "0"])
def test_scheduled_plan_refuses_an_absurd_horizon_in_one_line(dsn, hours):
    code, _, err = jc(dsn, "scheduled-plan", "--hours", hours)
    assert code == 2
    assert_one_line_error(err)


def test_a_monitor_refuses_a_grace_under_a_second(dsn):
    code, _, err = jc(dsn, "monitor", env={"JOBCONSOLE_SCHEDULE_GRACE": "0"})
    assert code == 2 and "JOBCONSOLE_SCHEDULE_GRACE" in err
    assert_one_line_error(err)


def test_the_default_time_zone_is_this_machines(dsn, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert api.prepare(dsn, "double", "0 9 * * *", 1).timezone == "America/New_York"
    monkeypatch.setenv("TZ", "Etc/UTC")
    assert api.prepare(dsn, "double", "0 9 * * *", 2).timezone == "UTC"
