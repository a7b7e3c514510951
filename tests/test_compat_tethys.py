"""Tethys' Jobs API on jobconsole: a job manager per app, jobs per user in Tethys'
statuses, BASIC jobs that really run on jobconsole's workers, and the callback URL."""
import os
import types

import pytest

from helpers import wait_for
from jobconsole import api
from jobconsole.compat.tethys import JobManager
from jobconsole.errors import BadInput, Conflict, NotFound

ALICE = types.SimpleNamespace(username="alice")     # a Django user, as far as Tethys looks


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))     # the default workspaces
    return tmp_path


@pytest.fixture
def manager(dsn):
    return JobManager("my_first_app", dsn)


def test_the_seeds_example_with_a_basic_job(manager, start_monitor, home):
    job = manager.create_job(
        name="myjob_1",  # required
        user=ALICE,  # required
        job_type="BASIC",  # required
        description="doubles a number",
        operation="double", input=21,
    )
    job.extended_properties = {"one": 1, "two": 2}
    job.set_attribute("input", 4)
    job.save()
    assert (job.status, job.execute_time, job.start_time) == ("Pending", None, None)
    assert (job.user, job.label) == ("alice", "my_first_app")
    assert job.workspace == str(home / "tethys" / "my_first_app" / "alice")
    start_monitor()
    job.execute()
    assert job.status in ("Submitted", "Running", "Complete")
    wait_for(lambda: job.status == "Complete", 30, "the job to complete")
    assert job.get_result() == 8
    assert job.creation_time <= job.execute_time <= job.start_time <= job.completion_time
    again = manager.get_job(job.id)
    assert (again.name, again.extended_properties, again.description, again.input) == \
        ("myjob_1", {"one": 1, "two": 2}, "doubles a number", 4)


def test_a_saved_job_shows_as_a_task_and_does_not_run(manager, dsn, start_monitor):
    job = manager.create_job("held", "bob", "BASIC", operation="double", input=1).save()
    start_monitor()
    task = api.get_task(dsn, job.id).info()
    assert (task.status, task.owner, task.metadata["tethys"]["app"]) == \
        ("waiting", "bob", "my_first_app")
    assert job.status == "Pending"
    job.execute()
    assert api.get_task(dsn, job.id).join(timeout=30).output == 2


def test_stop_aborts_and_a_failure_is_error(manager, start_monitor):
    start_monitor()
    long = manager.create_job("long", ALICE, "BASIC", operation="sleep", input=30).execute()
    wait_for(lambda: long.status == "Running", 30, "the job to run")
    long.stop()
    wait_for(lambda: long.status == "Aborted", 30, "the job to be aborted")
    failing = manager.create_job("failing", ALICE, "BASIC", operation="fail", input=1).execute()
    wait_for(lambda: failing.status == "Error", 30, "the job to fail")
    assert failing.completion_time is None


def test_delete_removes_a_job(manager, dsn):
    job = manager.create_job("gone", ALICE, "BASIC", operation="double", input=1).save()
    job.delete()
    assert manager.list_jobs() == []
    assert api.list_tasks(dsn) == []


def test_jobs_are_listed_and_got_per_app_and_per_user(manager, dsn):
    other_app = JobManager("other_app", dsn)
    mine = manager.create_job("a", ALICE, "BASIC", operation="double", input=1).save()
    bobs = manager.create_job("b", "bob", "BASIC", operation="double", input=1).save()
    theirs = other_app.create_job("a", ALICE, "BASIC", operation="double", input=1).save()
    assert [j.id for j in manager.list_jobs()] == [mine.id, bobs.id]
    assert [j.id for j in manager.list_jobs(user=ALICE)] == [mine.id]
    assert [j.id for j in manager.list_jobs(order_by="-name")] == [bobs.id, mine.id]
    assert [j.id for j in manager.list_jobs(filters={"name": "b"})] == [bobs.id]
    assert [j.id for j in manager.list_jobs(filters={"status": "Pending"})] == [mine.id, bobs.id]
    assert manager.get_job(mine.id, user=ALICE).name == "a"
    for job_id, user in ((theirs.id, None), (bobs.id, ALICE), (10**9, None)):
        with pytest.raises(NotFound) as missing:
            manager.get_job(job_id, user=user)
        assert str(missing.value) == f"no job {job_id} in app 'my_first_app'"


def test_the_status_callback_url():
    manager = JobManager("my_first_app")
    request = types.SimpleNamespace(get_host=lambda: "example.com", is_secure=lambda: False)
    assert manager.get_job_status_callback_url(request, 27) == \
        "http://example.com/update-job-status/27/"
    secure = types.SimpleNamespace(get_host=lambda: "example.com:8443", is_secure=lambda: True)
    assert manager.get_job_status_callback_url(secure, 27) == \
        "https://example.com:8443/update-job-status/27/"
    assert manager.get_job_status_callback_url("http://tethys.local/", 3) == \
        "http://tethys.local/update-job-status/3/"


@pytest.mark.parametrize("make, says", [
    (lambda m: m.create_job("x", ALICE, "CONDOR"), "unknown job type 'CONDOR' (HTCondor"),
    (lambda m: m.create_job("x", ALICE, "NOPE"), "unknown job type 'NOPE'"),
    (lambda m: m.create_job("", ALICE, "BASIC"), "name must be a non-empty str"),
    (lambda m: m.create_job("x", None, "BASIC"), "user must be a user with a username"),
    (lambda m: m.create_job("x", ALICE, "BASIC", executable="a.sh"), "BASIC jobs have no attribute"),
    (lambda m: m.create_job("x", ALICE, "BASIC").save(), "needs an operation"),
    (lambda m: m.create_job("x", ALICE, "BASIC", operation="nope").save(), "nope"),
    (lambda m: m.list_jobs(filters={"colour": "red"}), "unknown filter fields 'colour'"),
    (lambda m: m.list_jobs(order_by="colour"), "cannot order jobs by 'colour'"),
])
def test_bad_input_is_one_line_and_stores_nothing(manager, sql_conn, make, says):
    with pytest.raises((BadInput, NotFound)) as refused:
        make(manager)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert sql_conn.execute("select (select count(*) from jobconsole.task), "
                            "(select count(*) from jobconsole.tethys_job)").fetchone() == (0, 0)


def test_a_name_is_unique_in_its_app(manager, sql_conn):
    manager.create_job("same", ALICE, "BASIC", operation="double", input=1).save()
    with pytest.raises(Conflict, match="has a job named 'same' already"):
        manager.create_job("same", "bob", "BASIC", operation="double", input=2).save()
    assert sql_conn.execute("select count(*) from jobconsole.task").fetchone() == (1,)


def test_a_workflow_runs_its_nodes_in_order_and_a_failure_stops_the_descendants(
        manager, dsn, start_monitor):
    from jobconsole.compat.tethys import WorkflowJobNode
    wf = manager.create_job("nightly", ALICE, "WORKFLOW", description="four steps")
    a = WorkflowJobNode("a", wf, "BASIC", operation="double", input=1)
    b = WorkflowJobNode("b", wf, "BASIC", operation="double", input=2)
    b.add_parent(a)
    c = WorkflowJobNode("c", wf, "BASIC", operation="fail", input=3)
    c.add_parent(a)
    d = WorkflowJobNode("d", wf, "BASIC", operation="double", input=4)
    d.add_parent(c)
    wf.save()
    assert wf.status == "Pending"
    assert {t.status for t in api.list_tasks(dsn)} == {"waiting"}
    start_monitor()
    wf.execute()
    wait_for(lambda: wf.status == "Various-Complete", 30, "the workflow to end")
    assert wf.get_result() == {"a": 2, "b": 4, "c": None, "d": None}
    assert [n.status for n in (a, b, c, d)] == ["Complete", "Complete", "Error", "Error"]
    assert d.start_time is None              # it never ran
    assert api.workflow(dsn, wf.jobconsole_workflow).counts == {"done": 2, "failed": 2}
    again = manager.get_job(wf.id)
    assert [(n.name, [p.name for p in n.parents]) for n in again.nodes] == \
        [("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["c"])]
    assert [j.name for j in manager.list_jobs()] == ["nightly"]     # nodes are its own
    again.delete()
    assert manager.list_jobs() == [] and api.list_tasks(dsn) == []


def test_a_workflow_is_various_while_its_nodes_differ_and_stop_ends_them(
        manager, start_monitor):
    from jobconsole.compat.tethys import WorkflowJobNode
    start_monitor("--workers", "2")
    wf = manager.create_job("mixed", ALICE, "WORKFLOW")
    slow = WorkflowJobNode("slow", wf, "BASIC", operation="sleep", input=30)
    WorkflowJobNode("quick", wf, "BASIC", operation="double", input=1)
    after = WorkflowJobNode("after", wf, "BASIC", operation="double", input=1)
    after.add_parent(slow)
    wf.execute()
    wait_for(lambda: [n.status for n in wf.nodes] == ["Running", "Complete", "Submitted"], 30,
             "one node done while one runs")
    assert wf.status == "Various"
    wf.stop()
    wait_for(lambda: wf.status == "Various-Complete", 30, "the workflow to end")
    assert [n.status for n in wf.nodes] == ["Aborted", "Complete", "Aborted"]


@pytest.mark.parametrize("build, says", [
    (lambda m, N: m.create_job("w", ALICE, "WORKFLOW"), "workflow 'w' has no node"),
    (lambda m, N: [N("x", w := m.create_job("w", ALICE, "WORKFLOW"), "BASIC",
                     operation="double"), N("x", w, "BASIC", operation="double")][0].workflow,
     "two nodes named 'x'"),
    (lambda m, N: _cycle(m, N), "form a cycle"),
])
def test_a_bad_workflow_is_refused_in_one_line_and_stores_nothing(manager, sql_conn,
                                                                   build, says):
    from jobconsole.compat.tethys import WorkflowJobNode
    wf = build(manager, WorkflowJobNode)
    with pytest.raises(BadInput, match=says):
        wf.save()
    assert sql_conn.execute("select (select count(*) from jobconsole.task), "
                            "(select count(*) from jobconsole.tethys_job)").fetchone() == (0, 0)


def _cycle(manager, node):
    wf = manager.create_job("w", ALICE, "WORKFLOW")
    a = node("a", wf, "BASIC", operation="double")
    b = node("b", wf, "BASIC", operation="double")
    a.add_parent(b)
    b.add_parent(a)
    return wf


async def test_the_task_screen_shows_the_job_in_tethys_words(manager, dsn):
    from test_console import SIZE, details, until

    from jobconsole.console.app import JobConsole
    from jobconsole.console.task_screen import TaskScreen
    job = manager.create_job("[b]shown[/b]", ALICE, "BASIC", operation="double", input=1).save()
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TaskScreen(job.id))
        await until(pilot, lambda: isinstance(app.screen, TaskScreen)
                    and app.screen.query("#details")
                    and "as Tethys" in details(app.screen), what="the Tethys line")
        shown = details(app.screen)
        assert "my_first_app: [b]shown[/b] (BASIC)" in shown and "Pending" in shown


def test_a_basic_job_runs_an_importable_function_where_shipped_code_is_allowed(
        manager, dsn, start_monitor, monkeypatch):
    import dask_funcs
    # the workers import it as the app does
    monkeypatch.setenv("PYTHONPATH", os.path.dirname(dask_funcs.__file__))
    start_monitor("--allow-shipped-code")
    by_function = manager.create_job("f", ALICE, "BASIC", operation=dask_funcs.dollars,
                                     input=5).execute()
    by_path = manager.create_job("p", ALICE, "BASIC", operation="dask_funcs:dollars",
                                 input=6).execute()
    wait_for(lambda: by_path.status == "Complete" and by_function.status == "Complete", 30,
             "the functions to run")
    assert (by_function.get_result(), by_path.get_result()) == ("$5", "$6")
    assert api.get_task(dsn, by_path.id).info().operation == "dollars"
    with pytest.raises(BadInput, match="cannot be imported"):
        manager.create_job("x", ALICE, "BASIC", operation="dask_funcs:nothing").save()
