"""Tethys' SLURM jobs on a real one-node Slurm cluster (.ci/slurm-up starts it): the
monitors submit them with sbatch, follow them with squeue and sacct, stream their output
into their logs, cancel them, and take the tracking over from a monitor that dies."""
import os
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path

import psycopg
import pytest

from helpers import require, wait_for
from jobconsole import api
from jobconsole.compat.tethys import JobManager, WorkflowJobNode
from jobconsole.errors import BadInput, EngineUnavailable

ALICE = types.SimpleNamespace(username="alice")
SLURM_UP = Path(__file__).parent.parent / ".ci" / "slurm-up"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def slurm():
    """A Slurm cluster that takes jobs: started here when installed but not running."""
    if not shutil.which("sbatch") or not shutil.which("slurmctld"):
        require("Slurm (Debian's slurm-wlm and munge) is not installed")
    if subprocess.run(["scontrol", "ping"], capture_output=True, text=True).returncode:
        if os.geteuid() != 0:
            require("Slurm is installed but not running, and only root can start it")
        subprocess.run([str(SLURM_UP)], check=True)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))
    monkeypatch.setenv("JOBCONSOLE_ENGINE_POLL", "0.1")
    return tmp_path


@pytest.fixture
def manager(dsn):
    return JobManager("my_first_app", dsn)


def script(folder, name, body):
    path = Path(folder) / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def log_lines(dsn, job):
    return [line for _, line in api.get_task(dsn, job.id).logs()]


def test_a_slurm_job_runs_on_slurm_with_its_inputs_and_its_output_in_its_log(
        manager, dsn, start_monitor, slurm, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("forty-two\n")
    run = script(tmp_path, "run.sh", 'echo "read $(cat data.txt) with $1 $2 $GREETING"\n'
                                     'echo "to stderr" >&2\n')
    job = manager.create_job(
        "slurm_1", ALICE, "SLURM", executable="run.sh", arguments="a b",
        remote_input_files=[str(data), str(run)], num_cpus=1, memory=100, time_limit=5,
        environment={"GREETING": "hello"})
    job.save()
    assert job.status == "Pending"
    start_monitor()
    job.execute()
    wait_for(lambda: job.status == "Complete", 60, "the Slurm job to complete")
    result = job.get_result()
    assert result["state"] == "COMPLETED" and result["exit_code"] == 0
    assert result["slurm_job_id"].isdigit()
    assert (Path(job.workspace) / "data.txt").read_text() == "forty-two\n"
    assert "read forty-two with a b hello" in log_lines(dsn, job)
    assert "to stderr" in log_lines(dsn, job)
    task = api.get_task(dsn, job.id).info()
    assert (task.domain, task.operation, task.status) == ("slurm", "slurm:run.sh", "done")
    assert job.start_time is not None and job.completion_time is not None


def test_a_failing_slurm_job_is_error_with_its_exit_code(manager, dsn, start_monitor, slurm,
                                                          tmp_path):
    start_monitor()
    job = manager.create_job("fails", ALICE, "SLURM", executable="sh",
                             arguments=["-c", "echo dying >&2; exit 3"]).execute()
    wait_for(lambda: job.status == "Error", 60, "the Slurm job to fail")
    info = api.get_task(dsn, job.id).info()
    assert info.error_kind == "error" and "exit code 3" in info.traceback
    assert "dying" in log_lines(dsn, job)


def test_stop_cancels_the_slurm_job(manager, dsn, start_monitor, slurm):
    start_monitor()
    job = manager.create_job("long", ALICE, "SLURM", executable="sh",
                             arguments=["-c", "echo started; sleep 61.25"]).execute()
    wait_for(lambda: job.status == "Running", 60, "the Slurm job to run")
    wait_for(lambda: "started" in log_lines(dsn, job), 30, "its output to reach its log")
    job.stop()
    wait_for(lambda: job.status == "Aborted", 60, "the job to be aborted")
    assert api.get_task(dsn, job.id).info().output["state"] == "CANCELLED"
    wait_for(lambda: subprocess.run(["pgrep", "-f", "sleep 61.25"]).returncode == 1, 30,
             "the job's process to end")


def test_a_slurm_workflow_runs_in_order_and_a_failed_node_fails_its_descendants(
        manager, dsn, start_monitor, slurm, tmp_path):
    order = tmp_path / "order.txt"
    flow = manager.create_job("flow", ALICE, "WORKFLOW")
    first = WorkflowJobNode("first", flow, "SLURM", executable="sh",
                            arguments=["-c", f"echo first >> {order}"])
    second = WorkflowJobNode("second", flow, "SLURM", executable="sh",
                             arguments=["-c", f"echo second >> {order}; exit 1"])
    basic = WorkflowJobNode("third", flow, "BASIC", operation="double", input=1)
    second.add_parent(first)
    basic.add_parent(second)
    start_monitor()
    flow.execute()
    wait_for(lambda: flow.status == "Various-Complete", 90, "the workflow to end")
    assert order.read_text() == "first\nsecond\n"
    assert [n.status for n in flow.nodes] == ["Complete", "Error", "Error"]
    assert api.get_task(dsn, basic.id).info().error_kind == "dependency"


def test_bad_slurm_jobs_are_refused_in_one_line(manager, start_monitor, slurm, dsn):
    with pytest.raises(BadInput, match="executable 'no-such-program' does not exist"):
        manager.create_job("a", ALICE, "SLURM", executable="no-such-program").save()
    with pytest.raises(BadInput, match="needs an executable"):
        manager.create_job("b", ALICE, "SLURM").save()
    with pytest.raises(BadInput, match="no input file"):
        manager.create_job("c", ALICE, "SLURM", executable="true",
                           remote_input_files=["/nonexistent/file"]).save()
    with pytest.raises(BadInput, match="num_cpus must be a positive whole number"):
        manager.create_job("d", ALICE, "SLURM", executable="true", num_cpus=-1).save()
    assert manager.list_jobs() == []
    # a partition Slurm does not have: the job ends Error, sbatch's words in its log
    start_monitor()
    job = manager.create_job("e", ALICE, "SLURM", executable="true",
                             partition="no_such_partition").execute()
    wait_for(lambda: job.status == "Error", 60, "the refused job to end")
    assert any("invalid partition" in line.lower() for line in log_lines(dsn, job))


def test_a_monitor_refuses_the_engine_domain(dsn):
    from jobconsole.monitor import Monitor
    with pytest.raises(BadInput, match="domain 'slurm' is where Slurm jobs wait"):
        Monitor(dsn, domain="slurm")


def tracking_pid(dsn):
    """The pid of the monitor whose tracker holds the Slurm lock, or None."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select a.application_name from pg_locks l join pg_stat_activity a "
            "on a.pid = l.pid where l.locktype = 'advisory' and l.granted "
            "and a.application_name like 'jobconsole slurm tracker %'").fetchone()
    return int(row[0].rsplit(" ", 1)[1]) if row else None


def test_another_monitor_takes_over_the_tracking_of_a_killed_one(
        manager, dsn, start_monitor, slurm, tmp_path):
    monitors = {mon.proc.pid: mon for mon in (start_monitor(host="one"),
                                              start_monitor(host="two"))}
    jobs = [manager.create_job(f"j{i}", ALICE, "SLURM", executable="sh",
                               arguments=["-c", f"sleep 4; echo done {i}"]).execute()
            for i in range(3)]
    wait_for(lambda: all(j.status == "Running" for j in jobs), 60, "the jobs to run")
    killed = tracking_pid(dsn)
    assert killed in monitors
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: tracking_pid(dsn) not in (None, killed), 30, "another monitor to track")
    wait_for(lambda: all(j.status == "Complete" for j in jobs), 90,
             "the other monitor to record the jobs' ends")
    for i, job in enumerate(jobs):
        assert log_lines(dsn, job).count(f"done {i}") == 1


def test_tracking_resumes_after_slurmctld_restarts(manager, dsn, start_monitor, slurm):
    start_monitor()
    jobs = [manager.create_job(f"r{i}", ALICE, "SLURM", executable="sh",
                               arguments=["-c", f"sleep 5; echo end {i}"]).execute()
            for i in range(3)]
    wait_for(lambda: all(j.status == "Running" for j in jobs), 60, "the jobs to run")
    subprocess.run(["pkill", "-x", "slurmctld"], check=True)
    wait_for(lambda: subprocess.run(["pgrep", "-x", "slurmctld"]).returncode, 30,
             "slurmctld to stop")
    more = manager.create_job("while_down", ALICE, "SLURM", executable="true")
    with pytest.raises(EngineUnavailable, match="stays Pending"):
        more.execute()
    assert more.status == "Pending"
    subprocess.run([str(SLURM_UP)], check=True)
    wait_for(lambda: all(j.status == "Complete" for j in jobs), 90, "the jobs to complete")
    for i, job in enumerate(jobs):
        assert log_lines(dsn, job).count(f"end {i}") == 1
    more.execute()
    wait_for(lambda: more.status == "Complete", 60, "the job executed again to complete")


def test_the_seeds_example_with_a_slurm_job(manager, dsn, start_monitor, slurm, tmp_path):
    # the seed's CONDOR example; changed: the import, the job type, and the attributes
    # HTCondor alone has (attributes=, condorpy_template_name)
    app_workspace = tmp_path / "app_workspace"
    app_workspace.mkdir()
    script(app_workspace, "my_script.py", "").write_text(
        "#!/usr/bin/env python3\nimport sys\nprint(open('input_1').read() + open('input_2')"
        ".read())\n")
    for name in ("input_1", "input_2"):
        (app_workspace / name).write_text(name)
    job_manager = manager
    job = job_manager.create_job(
        name='myjob_{id}',  # required
        user=ALICE,  # required
        job_type='SLURM',  # required
        remote_input_files=(
            os.path.join(app_workspace, 'my_script.py'),
            os.path.join(app_workspace, 'input_1'),
            os.path.join(app_workspace, 'input_2')
        )
    )
    job.extended_properties = {'one': 1, 'two': 2}
    job.set_attribute('executable', 'my_script.py')
    job.save()
    start_monitor()
    job.execute()
    wait_for(lambda: job.status == "Complete", 60, "the Slurm job to complete")
    assert "input_1input_2" in log_lines(dsn, job)
    assert job_manager.get_job(job.id).extended_properties == {'one': 1, 'two': 2}


def test_delete_stops_a_running_slurm_job_and_removes_it(manager, dsn, start_monitor, slurm):
    start_monitor()
    job = manager.create_job("doomed", ALICE, "SLURM", executable="sleep",
                             arguments="62.5").execute()
    wait_for(lambda: job.status == "Running", 60, "the Slurm job to run")
    job.delete()
    assert manager.list_jobs() == [] and api.list_tasks(dsn) == []
    wait_for(lambda: subprocess.run(["pgrep", "-f", "sleep 62.5"]).returncode == 1, 30,
             "the job's process to end")


def test_the_callback_over_http_asks_slurm_again(manager, dsn, start_monitor, slurm):
    from test_serve import call, free_port
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "jobconsole.console", "serve", "--port",
                               str(port)], env=dict(os.environ, JOBCONSOLE_DSN=dsn),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start_monitor()
        job = manager.create_job("called", ALICE, "SLURM", executable="sleep",
                                 arguments="2").execute()
        url = manager.get_job_status_callback_url(f"127.0.0.1:{port}", job.id)
        wait_for(lambda: call_quietly(call, url) == (200, {"success": True}), 20,
                 "the server to answer")
        wait_for(lambda: job.status == "Complete", 60, "the Slurm job to complete")
        assert call(url, "POST", b'{"status": "Error"}') == (200, {"success": True})
        assert job.status == "Complete"
    finally:
        server.terminate()
        server.wait(10)


def call_quietly(call, url):
    try:
        return call(url)
    except OSError:     # not listening yet
        return None
