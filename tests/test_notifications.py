"""What enqueueing announces: idle workers wake once per domain, however many tasks."""
import psycopg

from jobconsole import api


def heard(conn):
    return sorted((n.channel, n.payload) for n in conn.notifies(timeout=0.5))


def listening(dsn):
    conn = psycopg.connect(dsn, autocommit=True)
    for channel in ("jobconsole_queued", "jobconsole_task"):
        conn.execute(f"listen {channel}")
    return conn


def test_one_task_or_a_batch_wakes_its_domain_once(dsn):
    with listening(dsn) as conn:
        api.schedule(dsn, "double", 1)
        assert heard(conn) == [("jobconsole_queued", "default")]
        api.schedule_many(dsn, "double", range(50))
        assert heard(conn) == [("jobconsole_queued", "default")]


def test_a_waiting_task_tells_the_console_but_wakes_no_worker(dsn):
    with listening(dsn) as conn:
        api.schedule(dsn, "double", 1, delay=60)
        assert heard(conn) == [("jobconsole_task", "new")]


def test_a_task_inserted_by_hand_is_announced_too(dsn, sql_conn):
    with listening(dsn) as conn:
        sql_conn.execute("insert into jobconsole.task (operation, domain) values ('double', 'default')")
        assert heard(conn) == [("jobconsole_queued", "default")]
        with sql_conn.transaction():     # after a batch in the same transaction too
            api.tasks.insert(sql_conn, "double", [1, 2])
            sql_conn.execute("insert into jobconsole.task (operation, domain) "
                             "values ('double', 'other')")
        assert heard(conn) == [("jobconsole_queued", "default"), ("jobconsole_queued", "other")]
