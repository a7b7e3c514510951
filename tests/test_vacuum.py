"""The task table is vacuumed by a monitor once its dead rows pass a limit, without
waiting for autovacuum's next look (the shared test server runs no autovacuum)."""
import logging

from helpers import MonitorProcess, wait_for

from jobconsole import api, vacuum


def vacuums(conn):
    return conn.execute("select vacuum_count from pg_stat_user_tables "
                        "where relid = 'jobconsole.task'::regclass").fetchone()[0]


def test_a_monitor_vacuums_the_task_table_once_its_dead_rows_pass_the_limit(dsn, sql_conn):
    monitor = MonitorProcess(dsn, "--workers", "1", env={vacuum.ENV_DEAD: "40"})
    try:
        monitor.wait_workers(1)
        for task in api.schedule_many(dsn, "double", range(30)):
            task.join(30)       # each leaves two dead row versions, or three
        wait_for(lambda: vacuums(sql_conn) > 0, 30, "the task table's vacuum")
    finally:
        monitor.stop()


def test_a_limit_that_is_not_a_number_falls_back_to_the_default(monkeypatch, caplog):
    monkeypatch.setenv(vacuum.ENV_DEAD, "lots")
    with caplog.at_level(logging.WARNING, "jobconsole.vacuum"):
        assert vacuum.dead_limit() == vacuum.DEFAULT_DEAD
    assert "JOBCONSOLE_VACUUM_DEAD='lots' is not a whole number" in caplog.text
    monkeypatch.setenv(vacuum.ENV_DEAD, "0")
    assert vacuum.dead_limit() == 0        # never
