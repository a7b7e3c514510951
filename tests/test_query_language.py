"""The query language against real tasks: `api.list_tasks(where=...)`, `list-tasks
--where`, and the bulk abort, relaunch and delete of `--where`, which act on the tasks
that matched when the user confirmed and on no task that matches later."""
import json

import pytest

from jobconsole import api
from jobconsole.errors import QueryError
from test_cli import jc


@pytest.fixture
def known(dsn, sql_conn):
    """Tasks with known outcomes, set in place (no worker runs here)."""
    ids = {}
    for name, op, owner, status, kind, age, took, flow in [
        ("old_failed_report", "double", "alice", "failed", "timeout", "2 hours", "40 s", "nightly"),
        ("new_failed_report", "double", "alice", "failed", "error", "1 minute", "1 s", None),
        ("done_by_bob", "double", "bob", "done", None, "3 hours", "5 s", "nightly"),
        ("queued_no_owner", "sleep", None, "queued", None, "10 seconds", None, None),
    ]:
        tid = api.schedule(dsn, op, 1, owner=owner, workflow=flow).id
        sql_conn.execute(
            "update jobconsole.task set status = %s, error_kind = %s, "
            "queued = now() - %s::interval, started = case when %s::interval is null then null "
            "else now() - %s::interval end, finished = case when %s::interval is null then "
            "null else now() - %s::interval + %s::interval end where id = %s",
            (status, kind, age, took, age, took, age, took, tid))
        ids[name] = tid
    return ids


def where(dsn, query):
    return sorted(t.id for t in api.list_tasks(dsn, where=query))


def test_each_qualifier_finds_its_tasks(dsn, known):
    k = known
    assert where(dsn, "status:failed") == sorted([k["old_failed_report"], k["new_failed_report"]])
    assert where(dsn, "op:sleep") == [k["queued_no_owner"]]
    assert where(dsn, "owner:bob") == [k["done_by_bob"]]
    assert where(dsn, "kind:timeout") == [k["old_failed_report"]]
    assert where(dsn, "workflow:nightly") == sorted([k["old_failed_report"], k["done_by_bob"]])
    assert where(dsn, "age>1h") == sorted([k["old_failed_report"], k["done_by_bob"]])
    assert where(dsn, "dur>30s") == [k["old_failed_report"]]
    assert where(dsn, f"id>{k['done_by_bob']}") == [k["queued_no_owner"]]
    assert where(dsn, "status:failed owner:alice age<1h") == [k["new_failed_report"]]


def test_the_other_qualifiers_find_their_tasks(dsn, sql_conn, start_monitor):
    start_monitor()
    ran = api.schedule(dsn, "double", 1).join(timeout=30)
    gpu = api.schedule(dsn, "sleep", 1, priority=7, metadata={"category": "reports"},
                       delay=3600)
    # moved to a domain no monitor serves, as a third attempt
    sql_conn.execute("update jobconsole.task set domain = 'gpu', attempt = 3 where id = %s",
                     (gpu.id,))
    assert where(dsn, "domain:gpu") == [gpu.id]
    assert where(dsn, "category:reports") == [gpu.id]
    assert where(dsn, f"worker:{ran.info().worker_id}") == [ran.id]
    assert where(dsn, f"id:{ran.id},{gpu.id}") == sorted([ran.id, gpu.id])
    assert where(dsn, "priority>5") == [gpu.id]
    assert where(dsn, "attempt>=3") == [gpu.id] and where(dsn, "attempt<=1") == [ran.id]


async def test_the_tasks_view_filters_with_every_qualifier(dsn, known):
    from jobconsole.console.app import JobConsole
    from test_console import SIZE, ids, until
    k = known
    expected = {
        "status:failed": [k["new_failed_report"], k["old_failed_report"]],
        "op:sleep": [k["queued_no_owner"]],
        "owner:bob": [k["done_by_bob"]],
        "kind:timeout": [k["old_failed_report"]],
        "workflow:nightly": [k["done_by_bob"], k["old_failed_report"]],
        "age>1h": [k["done_by_bob"], k["old_failed_report"]],
        "dur>30s": [k["old_failed_report"]],
        f"id>{k['done_by_bob']}": [k["queued_no_owner"]],
        "!owner:alice": [k["queued_no_owner"], k["done_by_bob"]],
        "bob": [k["done_by_bob"]],
        "domain:default status:done": [k["done_by_bob"]],
    }
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 4)
        for query, tasks in expected.items():
            await pilot.press("slash", "ctrl+u", *query, "enter")
            # newest first, as the view shows them
            await until(pilot, lambda: ids(app) == sorted(tasks, reverse=True), 5, query)


def test_negation_and_free_text(dsn, known):
    k = known
    assert where(dsn, "!owner:alice") == sorted([k["done_by_bob"], k["queued_no_owner"]])
    assert where(dsn, "bob") == [k["done_by_bob"]]
    assert where(dsn, "!status:failed !nightly") == [k["queued_no_owner"]]


def test_a_malformed_query_is_refused_with_where_it_went_wrong(dsn, known):
    with pytest.raises(QueryError, match=r"unknown qualifier 'stauts'.*\(at character 1\)"):
        api.list_tasks(dsn, where="stauts:failed")
    code, out, err = jc(dsn, "list-tasks", "--where", "status:failed age>soon")
    assert code == 2 and "'soon' is not a duration" in err and "Traceback" not in err


def test_list_tasks_where_on_the_command_line(dsn, known):
    code, out, err = jc(dsn, "list-tasks", "--where", "kind:timeout", "--json")
    assert code == 0, err
    assert [t["id"] for t in json.loads(out)] == [known["old_failed_report"]]


def test_bulk_abort_acts_on_what_matched_when_confirmed_only(dsn, known):
    waiting = [api.schedule(dsn, "sleep", 1, owner="carol").id for _ in range(3)]
    code, out, err = jc(dsn, "abort-task", "--where", "owner:carol status:queued", "--yes")
    assert code == 0, err
    assert out.splitlines() == [f"task {tid} aborted" for tid in waiting]
    assert "abort: 3 of 3 tasks matching 'owner:carol status:queued'" in err
    later = api.schedule(dsn, "sleep", 1, owner="carol").id
    assert api.get_task(dsn, later).info().status == "queued"
    assert {api.get_task(dsn, t).info().status for t in waiting} == {"aborted"}


def test_bulk_delete_asks_first_and_does_nothing_when_refused(dsn, known):
    code, out, err = jc(dsn, "delete-task", "--where", "owner:bob", input="n\n")
    assert code == 1 and "Delete 1 task matching 'owner:bob'" in err
    assert api.get_task(dsn, known["done_by_bob"]).info().status == "done"
    code, out, err = jc(dsn, "delete-task", "--where", "owner:bob", input="y\n")
    assert code == 0 and out.strip() == f"task {known['done_by_bob']} deleted"
    assert where(dsn, "owner:bob") == []


def test_bulk_relaunch_prints_each_new_task(dsn, known):
    code, out, err = jc(dsn, "relaunch-task", "--where", "status:failed", "--yes")
    assert code == 0, err
    new = [int(line.rsplit(" ", 1)[1]) for line in out.splitlines()]
    assert len(new) == 2 and all(api.get_task(dsn, t).info().status == "queued" for t in new)


def test_a_bulk_action_needs_an_id_or_a_query(dsn):
    code, out, err = jc(dsn, "abort-task")
    assert code == 2 and "give a task id or --where QUERY" in err
    code, out, err = jc(dsn, "abort-task", "--where", "nobody-matches-this", "--yes")
    assert code == 0 and "no task matches" in out
