"""rex.asynctask on jobconsole: its calls as its users write them, the daemon that turns
each payload into a task, and what is never lost.

The brokers' transports (Redis, AMQP) have their own module: test_transport_brokers.py.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from urllib.parse import quote

import pytest
from psycopg import conninfo

from helpers import HERE, MonitorProcess, alive, wait_for
from jobconsole import api
from jobconsole.compat.asynctask import get_transport
from jobconsole.errors import BadInput, DatabaseUnavailable
from jobconsole.intake import Intake
from test_cli import assert_one_line_error, jc
import test_transport_brokers as brokers

OPS = os.path.join(HERE, "asynctask_ops.py")


@pytest.fixture
def daemon(dsn):
    """daemon({"queue": "worker"}, transport=URI, *more args) -> a running
    `jobconsole asynctask-workers`, stopped after the test."""
    started = []

    def start(workers, *args, transport=None, env=None, wait=True, host=None):
        api.register_operations(dsn, OPS)
        sets = ["--set", f"asynctask_workers={json.dumps(workers)}"]
        if transport:
            sets += ["--set", f"asynctask_transport={transport}"]
        proc = MonitorProcess(dsn, *sets, *args, ops=OPS, env=env, host=host,
                              command="asynctask-workers")
        started.append(proc)
        if wait:
            proc.wait_workers(len(set(workers.values())))
        return proc

    yield start
    for proc in started:
        proc.stop_with_workers()


@pytest.fixture(params=["pgsql", "filesys"])
def uri(request, dsn, tmp_path):
    """A transport URI of each kind this module covers."""
    if request.param == "pgsql":
        return pgsql_uri(dsn)
    return f"filesys:{tmp_path / 'queues'}"


@pytest.fixture(params=["pgsql", "filesys", "redis", "amqp"])
def feed(request, dsn, tmp_path):
    """(URI, queue name) on every transport; on the shared brokers, a queue of the
    test's own, deleted afterwards."""
    if request.param in ("pgsql", "filesys"):
        yield (pgsql_uri(dsn) if request.param == "pgsql" else f"filesys:{tmp_path}"), "feed"
        return
    uri, queue = brokers.needs(request.param), brokers.unique()
    yield uri, queue
    brokers.forget(uri, queue)


def pgsql_uri(dsn):
    """rex.asynctask's long form of the test database's URI (a socket directory as the
    host, percent-encoded, as libpq reads it)."""
    p = conninfo.conninfo_to_dict(dsn)
    host = quote(p.get("host", "localhost"), safe="")
    return f"pgsql://{p.get('user', 'postgres')}@{host}:{p.get('port', 5432)}/{p['dbname']}"


def test_pgsql_uris_in_every_form_name_the_same_queues(dsn):
    name = conninfo.conninfo_to_dict(dsn)["dbname"]
    api.transport(dsn, pgsql_uri(dsn)).submit_task("q", 1)
    assert api.transport(dsn, f"pgsql:{name}").get_task("q") == 1
    api.transport(dsn, dsn).submit_task("q", 2)
    assert api.transport(dsn, pgsql_uri(dsn).replace("pgsql:", "postgresql:")).get_task("q") == 2


def journal(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


# -- the documents' examples ----------------------------------------------------------------

def test_the_documents_submit_and_retrieve_example(dsn, uri):
    with jobconsole_dsn(dsn):
        transport = get_transport(uri)
        payload = {'foo': 'bar', 'baz': 123}
        transport.submit_task('some_queue', payload)

        transport = get_transport(uri)
        payload = transport.get_task('some_queue')
    assert payload == {'foo': 'bar', 'baz': 123}
    assert transport.get_task('some_queue') is None


def test_payloads_come_off_a_queue_oldest_first_and_queues_are_apart(dsn, uri):
    transport = api.transport(dsn, uri)
    for n in range(5):
        transport.submit_task("a", {"n": n})
    transport.submit_task("b", "other")
    assert [transport.get_task("a")["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    assert transport.get_task("a") is None
    assert transport.get_task("b") == "other"


def test_a_payload_no_task_could_take_is_refused_at_submit(dsn, uri):
    """What a task's input cannot hold would stop its queue's intake later: refused now."""
    transport = api.transport(dsn, uri)
    for payload in ({"a": "nul\x00"}, "\udcff", float("nan"), object()):
        with pytest.raises(BadInput):
            transport.submit_task("q", payload)
    assert transport.get_task("q") is None


def test_with_no_uri_the_transport_is_jobconsoles_own_database(dsn):
    with jobconsole_dsn(dsn):
        get_transport().submit_task("mine", [1, 2])
    [queue] = api.list_queues(dsn)
    assert (queue.name, queue.depth) == ("mine", 1)
    assert queue.transport == f"pgsql:{api.describe_dsn(dsn)}"


def test_a_released_claim_goes_back_to_the_head_and_an_acked_one_is_gone(dsn, uri):
    transport = api.transport(dsn, uri)
    transport.submit_task("q", 1)
    transport.submit_task("q", 2)
    claim = transport.claim("q", timeout=1)
    assert claim.payload == 1
    claim.release()
    claim = transport.claim("q", timeout=1)
    assert claim.payload == 1
    claim.ack()
    assert transport.get_task("q") == 2


def test_a_batch_takes_what_is_there_up_to_its_limit_and_settles_as_one(dsn, uri):
    transport = api.transport(dsn, uri)
    for n in range(5):
        transport.submit_task("q", n)
    batch = transport.claim_batch("q", timeout=1, limit=3)
    assert batch.payloads == [0, 1, 2]
    batch.release()
    batch = transport.claim_batch("q", timeout=1, limit=10)
    assert batch.payloads == [0, 1, 2, 3, 4]    # released in their order, at the head
    batch.ack()
    assert transport.get_task("q") is None
    assert transport.claim_batch("q", timeout=0) is None


# -- the daemon ---------------------------------------------------------------------------

def test_a_pgsql_payload_shows_in_the_console_as_queued_before_any_daemon_runs(dsn):
    api.transport(dsn).submit_task("queue_foo", {"foo": "bar"})
    code, out, err = jc(dsn, "list-queues")
    assert code == 0, err
    assert "queue_foo" in out and " 1 " in f" {out} "


def test_each_payload_the_daemon_takes_is_a_task_with_its_log(dsn, feed, daemon):
    uri, queue = feed
    transport = api.transport(dsn, uri)
    transport.submit_task(queue, {"foo": "bar", "baz": 123})
    daemon({queue: "my_worker"}, transport=uri)
    [task] = wait_for(lambda: [t for t in api.list_tasks(dsn) if t.status == "done"], 20,
                      "the payload's task to end")
    assert task.operation == "my_worker"
    assert task.metadata == {"queue": queue, "transport": transport.shown}
    assert api.get_task(dsn, task.id).input == {"foo": "bar", "baz": 123}
    assert [line for _, line in api.get_task(dsn, task.id).logs()] == \
        ["Received payload with foo=bar"]
    assert transport.get_task(queue) is None


def test_a_failing_worker_leaves_a_failed_task_with_its_traceback(dsn, feed, daemon):
    uri, queue = feed
    api.transport(dsn, uri).submit_task(queue, {"x": 1})
    daemon({queue: "failing_worker"}, transport=uri)
    [task] = wait_for(lambda: [t for t in api.list_tasks(dsn) if t.status == "failed"], 20,
                      "the task to fail")
    assert "ValueError: cannot process {'x': 1}" in api.get_task(dsn, task.id).traceback


def test_a_worker_killed_mid_payload_loses_nothing(dsn, feed, daemon, tmp_path):
    uri, queue = feed
    path = str(tmp_path / "journal")
    transport = api.transport(dsn, uri)
    transport.submit_task(queue, {"n": 1, "sleep": 30, "journal": path})
    proc = daemon({queue: "journal_worker"}, transport=uri)
    # started, not only claimed: a task claimed ahead is given back when its worker dies
    task = wait_for(lambda: next((t for t in api.list_tasks(dsn)
                                  if t.status == "running" and t.started), None),
                    20, "the payload's task to start")
    [worker] = proc.workers()
    os.kill(worker.pid, signal.SIGKILL)
    wait_for(lambda: api.get_task(dsn, task.id).status == "failed", 20, "the task to fail")
    info = api.get_task(dsn, task.id).info()
    assert info.error_kind == "crash"
    # the payload is not lost: it is the task's input, to relaunch
    assert api.get_task(dsn, task.id).input["n"] == 1
    assert transport.get_task(queue) is None


def test_a_batch_whose_tasks_cannot_be_recorded_goes_back_in_order_with_the_next(dsn, feed):
    """The intake claims the next batch while the last one's tasks are committed. When
    that commit fails, both go back, in their order, and come again: each payload
    becomes one task, in the order submitted."""
    uri, queue = feed
    api.register_operations(dsn, OPS)
    transport = api.transport(dsn, uri)
    n = 1000    # three batches of at most 400
    for i in range(n):
        transport.submit_task(queue, i)
    stop = threading.Event()
    recorded = []

    class FailingOnce(Intake):
        def record(self, payloads, same_session):
            recorded.append(len(payloads))
            if len(recorded) == 2:
                time.sleep(0.3)     # the next batch is claimed meanwhile
                raise DatabaseUnavailable("the database went away (played)")
            super().record(payloads, same_session)

    intake = FailingOnce(dsn, api.transport(dsn, uri), queue, "my_worker", None, stop)
    intake.start()
    try:
        wait_for(lambda: len(api.list_tasks(dsn, limit=n + 1)) >= n, 30, "every task")
        time.sleep(0.5)     # nothing more comes
    finally:
        stop.set()
        intake.join(10)
    inputs = [api.get_task(dsn, t.id).input for t in reversed(api.list_tasks(dsn, limit=n + 1))]
    assert inputs == list(range(n))
    assert transport.get_task(queue) is None


def test_a_consumer_killed_holding_a_claim_gives_it_back(dsn, uri, tmp_path):
    """Between taking a payload and recording its task, a consumer is killed: the
    payload goes back to its queue, at its head."""
    transport = api.transport(dsn, uri)
    transport.submit_task("q", "first")
    transport.submit_task("q", "second")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_CLAIM, dsn, uri], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == '"first"'
    assert transport.get_task("q") == "second"      # the claimed one is not offered
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    wait_for(lambda: transport.recover("q") >= 0 and transport.get_task("q") == "first", 10,
             "the claimed payload back")


_HOLD_A_CLAIM = """
import json, sys, time
from jobconsole import api
claim = api.transport(sys.argv[1], sys.argv[2]).claim("q", timeout=5)
print(json.dumps(claim.payload), flush=True)
time.sleep(60)
"""


def test_two_daemons_with_scheduler_fire_each_entry_once_per_fire_time(dsn, daemon,
                                                                        tmp_path):
    path = str(tmp_path / "ticks")
    entries = json.dumps([{"worker": "ticker", "second": "*/2"}])
    for host in ("a", "b"):     # one daemon per host and domain, as monitors go
        daemon({"unused": "my_worker"}, "--scheduler",
               "--set", f"asynctask_scheduled_workers={entries}",
               env={"TICKER_JOURNAL": path}, host=host)
    [schedule] = api.list_scheduled(dsn)
    assert (schedule.operation, schedule.rule) == ("ticker", "*/2 * * * * *")
    time.sleep(7)
    ticks = [t for t in api.list_tasks(dsn) if t.operation == "ticker"]
    assert len(ticks) >= 2
    with open(path) as f:
        fired = [float(line) for line in f]
    # one task per fire time, and one run per task
    assert len(fired) <= len(ticks)
    assert len({round(t) // 2 for t in fired}) == len(fired)


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["submit", "q", "{not json"], "not JSON"),
    (["submit", "", "1"], "queue name must be non-empty"),
    (["submit", "x" * 201, "1"], "at most 200 characters"),
    (["submit", "a\x1bb", "1"], "printable"),
    (["submit", "q", "1", "--transport", "gopher://x"], "unknown transport"),
    (["submit", "q", "1", "--transport", "pgsql://127.0.0.1:1/x"], "cannot connect"),
    (["asynctask-workers", "--set", "asynctask_workers={\"q\": \"nobody\"}"],
     "unknown worker nobody"),
    (["asynctask-workers", "--set", "asynctask_workers=[1]"], "JSON object"),
    (["asynctask-workers", "--set", "asynctask_workers={\"q\": \"my_worker\"}",
      "--set", "asynctask_scheduled_workers=[{\"worker\": \"ticker\", \"sec\": 1}]"],
     "unknown fields sec"),
    (["asynctask-workers", "--set", "asynctask_workers={\"q\": \"my_worker\"}",
      "--set", "asynctask_scheduled_workers=[{\"worker\": \"ticker\", \"minute\": \"61\"}]"],
     "invalid cron rule"),
    (["asynctask-workers", "--set", "nonsense=1"], "unknown setting"),
])
def test_bad_input_is_one_line_exit_2_and_stores_nothing(dsn, args, says):
    api.register_operations(dsn, OPS)
    code, out, err = jc(dsn, *args)
    assert code == 2, err
    assert_one_line_error(err)
    assert says in err
    assert api.list_queues(dsn) == [] and api.list_tasks(dsn) == []
    assert api.list_scheduled(dsn) == []


class jobconsole_dsn:
    """$JOBCONSOLE_DSN set to `dsn` for a block: rex.asynctask's calls take no DSN."""

    def __init__(self, dsn):
        self.dsn = dsn

    def __enter__(self):
        self.saved = os.environ.get("JOBCONSOLE_DSN")
        os.environ["JOBCONSOLE_DSN"] = self.dsn

    def __exit__(self, *exc):
        if self.saved is None:
            os.environ.pop("JOBCONSOLE_DSN")
        else:
            os.environ["JOBCONSOLE_DSN"] = self.saved
