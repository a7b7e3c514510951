"""`jobconsole demo`: the README's main job shows every kind of outcome within seconds."""
from helpers import alive, wait_for
from test_cli import jc

from jobconsole import api


def test_the_demo_runs_a_realistic_mix_and_two_schedules(dsn, tmp_path):
    code, out, err = jc(dsn, "demo", "--no-console", "--workers", "2",
                        env={"JOBCONSOLE_HOME": str(tmp_path)})
    assert code == 0, err
    assert "started a demo monitor" in out
    (monitor,) = wait_for(lambda: api.list_monitors(dsn), 20, "the demo monitor")
    try:
        wait_for(lambda: api.workflow(dsn, "catalogue").status == "done", 30, "the catalogue")
        month_end = wait_for(lambda: (lambda w: w if w.status == "failed" else None)(
            api.workflow(dsn, "month-end")), 30, "the month-end workflow to fail")
        assert month_end.counts == {"failed": 2}
        assert {t.error_kind for t in api.list_tasks(dsn, workflow="month-end")} == {
            "error", "dependency"}
        assert {s.operation for s in api.list_scheduled(dsn)} == {"resize_images",
                                                                 "build_report"}
        wait_for(lambda: {"train_model", "watch_queue"} <= {
            t.operation for t in api.list_tasks(dsn, status="running")}, 30, "the long tasks")
        # a second demo reuses the monitor and adds no schedule
        code, out, _ = jc(dsn, "demo", "--no-console", env={"JOBCONSOLE_HOME": str(tmp_path)})
        assert code == 0 and "already runs" in out and len(api.list_scheduled(dsn)) == 2
        # what keeps running is said, with how to stop it (here the database is the
        # test's, named by JOBCONSOLE_DSN: not the embedded server, which is not named)
        assert (f"The demo monitor keeps running in the background; to stop: "
                f"jobconsole shutdown-monitor {monitor.id} --now") in out
        assert "db stop" not in out and "database" not in out
    finally:
        api.shutdown_monitor(dsn, monitor.id, now=True)
        wait_for(lambda: not alive(monitor.pid), 20, "the demo monitor to stop")
