"""The redis and amqp transports against real servers: the machine's Redis on 6379 and
RabbitMQ on 5672 (guest/guest), shared with others, so every test uses queues of its
own, deletes them, and never stops those servers. Restarts are played on a Redis of
the test's own, and on RabbitMQ by closing this process's connections from the server.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from jobconsole.errors import BadInput, DatabaseUnavailable
from jobconsole.transports import get_transport

from helpers import require, wait_for

REDIS = "redis://127.0.0.1:6379?db=0"
AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


def reachable(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def needs(kind):
    port = {"redis": 6379, "amqp": 5672}[kind]
    require(None if reachable(port) else f"no {kind} server on 127.0.0.1:{port}")
    return REDIS if kind == "redis" else AMQP


def unique():
    return f"jc_test_{uuid.uuid4().hex[:12]}"


def forget(uri, queue):
    """Delete whatever a test left of `queue` on the shared server."""
    if uri.startswith("redis"):
        import redis
        r = redis.Redis()
        r.delete(f"asynctask_{queue}", queue,
                 *r.keys(f"jobconsole:*asynctask_{queue}"), *r.keys(f"jobconsole:*:{queue}"))
        r.close()
    else:
        import pika
        conn = pika.BlockingConnection(pika.URLParameters(AMQP))
        ch = conn.channel()
        ch.queue_delete(queue)
        ch.exchange_delete(queue)
        conn.close()


@pytest.fixture(params=["redis", "amqp"])
def broker(request):
    """(transport, queue): a fresh queue on each broker, deleted afterwards."""
    uri = needs(request.param)
    queue = unique()
    transport = get_transport(uri)
    yield transport, queue
    transport.close()
    forget(uri, queue)


# -- what every transport does ---------------------------------------------------------------

def test_submit_and_get_round_trip_in_order(broker):
    transport, queue = broker
    payloads = [{"n": 1}, {"nested": {"list": [1, "two", None, True]}}, [1, 2], "text", 3.5]
    for p in payloads:
        transport.submit_task(queue, p)
    assert [transport.get_task(queue) for _ in payloads] == payloads
    assert transport.get_task(queue) is None


def test_get_on_an_empty_queue_is_none_and_a_claim_waits_its_timeout(broker):
    transport, queue = broker
    assert transport.get_task(queue) is None
    assert transport.claim(queue, timeout=0) is None
    started = time.monotonic()
    assert transport.claim(queue, timeout=0.6) is None
    assert 0.5 < time.monotonic() - started < 3


def test_a_payload_that_is_not_json_is_refused(broker):
    transport, queue = broker
    with pytest.raises(BadInput, match="JSON"):
        transport.submit_task(queue, {"when": object()})
    with pytest.raises(BadInput, match="JSON"):
        transport.submit_task(queue, float("nan"))
    with pytest.raises(BadInput, match="queue name"):
        transport.submit_task("", {})


def test_claim_release_puts_it_back_at_the_head_and_ack_takes_it_for_good(broker):
    transport, queue = broker
    transport.submit_task(queue, "a")
    transport.submit_task(queue, "b")
    claim = transport.claim(queue, timeout=2)
    assert (claim.queue, claim.payload) == (queue, "a")
    claim.release()
    claim = transport.claim(queue, timeout=2)
    assert claim.payload == "a"
    claim.ack()
    assert transport.get_task(queue) == "b"
    assert transport.get_task(queue) is None


def test_a_batch_takes_what_is_there_up_to_its_limit_and_settles_as_one(broker):
    transport, queue = broker
    for n in range(5):
        transport.submit_task(queue, n)
    batch = transport.claim_batch(queue, timeout=2, limit=3)
    assert batch.payloads == [0, 1, 2]
    batch.release()
    batch = transport.claim_batch(queue, timeout=2, limit=10)
    assert batch.payloads == [0, 1, 2, 3, 4]    # released in their order, at the head
    batch.ack()
    assert transport.get_task(queue) is None
    assert transport.claim_batch(queue, timeout=0) is None


def test_two_batches_held_at_once_are_settled_each_on_its_own(broker):
    """As the intake does: the next batch is claimed while the last one is recorded."""
    transport, queue = broker
    for n in range(9):
        transport.submit_task(queue, n)
    older = transport.claim_batch(queue, timeout=2, limit=3)
    newer = transport.claim_batch(queue, timeout=0, limit=3)
    assert (older.payloads, newer.payloads) == ([0, 1, 2], [3, 4, 5])
    older.ack()
    newer.release()
    older = transport.claim_batch(queue, timeout=2, limit=3)
    newer = transport.claim_batch(queue, timeout=0, limit=3)
    assert (older.payloads, newer.payloads) == ([3, 4, 5], [6, 7, 8])
    newer.release()     # both put back, the newer first: in their order again
    older.release()
    batch = transport.claim_batch(queue, timeout=2, limit=10)
    assert batch.payloads == [3, 4, 5, 6, 7, 8]
    batch.ack()
    assert transport.get_task(queue) is None


def test_a_waiting_claim_takes_what_is_submitted_meanwhile(broker):
    transport, queue = broker
    uri = REDIS if transport.scheme == "redis" else AMQP
    producer = get_transport(uri)   # pika connections are not shared between threads
    timer = threading.Timer(0.5, producer.submit_task, (queue, {"late": True}))
    timer.start()
    try:
        claim = transport.claim(queue, timeout=10)
        assert claim.payload == {"late": True}
        claim.ack()
    finally:
        timer.join()
        producer.close()


def test_queues_show_depth(broker):
    transport, queue = broker
    for n in range(3):
        transport.submit_task(queue, n)
    mine = [q for q in transport.queues() if q.name == queue]
    assert len(mine) == 1
    assert (mine[0].depth, mine[0].transport) == (3, transport.shown)
    # no times are kept on redis lists, and an AMQP head cannot be read unconsumed
    assert mine[0].oldest_age is None
    assert "guest:" not in transport.shown


def test_a_consumer_killed_while_holding_a_claim_loses_nothing(broker):
    transport, queue = broker
    transport.submit_task(queue, {"precious": 1})
    transport.submit_task(queue, {"precious": 2})
    consumer = subprocess.Popen([sys.executable, "-c", _CONSUMER, transport.uri, queue],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(consumer.stdout.readline()) == {"precious": 1}
        # held: no one else gets it while its consumer lives
        assert transport.recover(queue) == 0
        assert transport.get_task(queue) == {"precious": 2}
        assert transport.get_task(queue) is None
    finally:
        consumer.send_signal(signal.SIGKILL)
        consumer.wait()
    if transport.scheme == "redis":
        # back once the consumer's lease (1 s there) has run out
        wait_for(lambda: transport.recover(queue) == 1, 10, "the dead consumer's claim back")
        assert transport.get_task(queue) == {"precious": 1}
    else:
        claim = transport.claim(queue, timeout=10)   # the broker redelivers it
        assert claim.payload == {"precious": 1}
        claim.ack()
    assert transport.get_task(queue) is None


_CONSUMER = """
import sys, time
from jobconsole.transports import get_transport
from jobconsole.transports.redis_lists import RedisTransport
uri, queue = sys.argv[1:]
t = RedisTransport(uri, lease=1.0) if uri.startswith("redis") else get_transport(uri)
import json
print(json.dumps(t.claim(queue, timeout=10).payload), flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("kind, uri, error, words", [
    ("redis", "redis://127.0.0.1:1", DatabaseUnavailable, "refused"),
    ("redis", "redis://127.0.0.1:port", BadInput, "port"),
    ("redis", "redis://127.0.0.1?db=two", BadInput, "db"),
    ("redis", "redis://127.0.0.1?db=99999", DatabaseUnavailable, "out of range"),
    ("redis", "redis://127.0.0.1?colour=red", BadInput, "unknown option"),
    ("redis", "redis://", BadInput, "needs a host"),
    ("redis", "redis://127.0.0.1:5672", DatabaseUnavailable, "Redis"),
    ("amqp", "amqp://guest:guest@127.0.0.1:1/", DatabaseUnavailable, "refused"),
    ("amqp", "amqp://guest:guest@127.0.0.1:port/", BadInput, "not an AMQP URI"),
    ("amqp", "amqp://guest:wrong@127.0.0.1:5672/", DatabaseUnavailable, "ACCESS_REFUSED"),
    ("amqp", "amqp://guest:guest@127.0.0.1:5672/no_such_vhost", DatabaseUnavailable,
     "vhost"),
    ("amqp", "amqp:///", BadInput, "needs a host"),
])
def test_bad_uris_and_unreachable_servers_fail_in_one_line(kind, uri, error, words):
    needs(kind)
    with pytest.raises(error) as caught:
        get_transport(uri)
    text = str(caught.value)
    assert words in text
    assert "\n" not in text and len(text) < 400
    assert "wrong" not in text      # no password in what is shown


# -- rex.asynctask's own layout --------------------------------------------------------------

def test_redis_shares_rex_asynctask_lists_with_old_producers_and_workers():
    import redis
    uri = needs("redis")
    queue = unique()
    r = redis.Redis()
    transport = get_transport(uri)
    try:
        # what rex.asynctask's producer does: RPUSH of json.dumps to asynctask_<queue>
        r.rpush(f"asynctask_{queue}", json.dumps({"from": "rex"}))
        transport.submit_task(queue, {"from": "jobconsole"})
        # what its worker does: LPOP and json.loads, of a bare payload
        assert json.loads(r.lindex(f"asynctask_{queue}", 1)) == {"from": "jobconsole"}
        claim = transport.claim(queue, timeout=1)
        assert claim.payload == {"from": "rex"}
        claim.ack()
        assert transport.get_task(queue) == {"from": "jobconsole"}
    finally:
        transport.close()
        forget(uri, queue)


def test_redis_key_prefix_option_and_bare_names():
    import redis
    needs("redis")
    queue = unique()
    r = redis.Redis()
    try:
        with get_transport(REDIS + "&key_prefix=") as bare:
            bare.submit_task(queue, 1)
            assert r.llen(queue) == 1
            with pytest.raises(BadInput, match="own"):
                bare.submit_task("jobconsole:consumer:x", 1)
        with get_transport(REDIS + "&key_prefix=other") as other:
            other.submit_task(queue, 2)
            assert r.llen(f"other_{queue}") == 1
    finally:
        r.delete(queue, f"other_{queue}")


def test_redis_sets_aside_what_is_not_json():
    import redis
    uri = needs("redis")
    queue = unique()
    r = redis.Redis()
    transport = get_transport(uri)
    try:
        r.rpush(f"asynctask_{queue}", b"not json", json.dumps("fine"))
        claim = transport.claim(queue, timeout=1)
        assert claim.payload == "fine"
        claim.ack()
        assert r.lrange(f"jobconsole:rejected:asynctask_{queue}", 0, -1) == [b"not json"]
    finally:
        transport.close()
        forget(uri, queue)


def test_redis_claim_finds_a_payload_whose_move_reply_was_lost():
    import redis
    uri = needs("redis")
    queue = unique()
    r = redis.Redis()
    transport = get_transport(uri)
    try:
        transport.submit_task(queue, "second")
        # the server moved it to this consumer's list, and the reply never came back
        r.rpush(transport._claimed(f"asynctask_{queue}", transport.me), json.dumps("first"))
        assert [transport.get_task(queue)] == ["second"]
        claim = transport.claim(queue, timeout=0)
        assert claim.payload == "first"
        claim.ack()
        assert transport.claim(queue, timeout=0) is None
    finally:
        transport.close()
        forget(uri, queue)


def test_amqp_declares_what_rex_asynctask_declares():
    import pika
    uri = needs("amqp")
    queue = unique()
    transport = get_transport(uri)
    try:
        transport.submit_task(queue, {"n": 1})
        conn = pika.BlockingConnection(pika.URLParameters(AMQP))
        ch = conn.channel()
        # the same declarations succeed (different ones would close the channel), and
        # a message published to the exchange of the queue's name, routed by its name,
        # lands in the queue, as kombu's SimpleQueue publishes
        ch.exchange_declare(queue, "direct", durable=True)
        ch.queue_declare(queue, durable=True)
        ch.basic_publish(queue, queue, json.dumps({"n": 2}))
        method, properties, body = ch.basic_get(queue, auto_ack=False)
        assert json.loads(body) == {"n": 1}
        assert properties.delivery_mode == 2
        assert abs(properties.timestamp - time.time()) < 5
        ch.basic_nack(method.delivery_tag, requeue=True)
        conn.close()
        assert transport.get_task(queue) == {"n": 1}
        assert transport.get_task(queue) == {"n": 2}
    finally:
        transport.close()
        forget(uri, queue)


# -- restarts --------------------------------------------------------------------------------

class OwnRedis:
    """A redis-server of the test's own, its data in an append-only file written
    before each reply, so that a SIGKILL loses nothing it acknowledged."""

    def __init__(self, folder):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.folder = folder
        self.uri = f"redis://127.0.0.1:{self.port}"
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: reachable(self.port), 10, "redis-server listening")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def own_redis(tmp_path):
    require(None if shutil.which("redis-server") else "no redis-server binary")
    server = OwnRedis(tmp_path)
    yield server
    server.kill()


class Consumer(threading.Thread):
    """Claims from `queue` until it has `count` different payloads, acking each: an
    intake loop. (An ack lost with its connection brings a payload twice.)"""

    def __init__(self, uri, queue, count, hold=0.0):
        super().__init__(daemon=True)
        self.uri, self.queue, self.count, self.hold = uri, queue, count, hold
        self.got, self.error, self.claimed = [], None, threading.Event()

    def run(self):
        try:
            with get_transport(self.uri) as transport:
                deadline = time.monotonic() + 60
                while len(set(self.got)) < self.count and time.monotonic() < deadline:
                    claim = transport.claim(self.queue, timeout=1)
                    if claim is None:
                        continue
                    self.claimed.set()
                    time.sleep(self.hold)
                    claim.ack()
                    self.got.append(claim.payload)
        except BaseException as exc:   # the test reports it
            self.error = exc


@pytest.mark.slow
def test_redis_restarts_lose_nothing_for_a_consumer_that_waits_or_holds(own_redis):
    queue = unique()
    producer = get_transport(own_redis.uri)
    consumer = Consumer(own_redis.uri, queue, count=6)
    consumer.start()
    for n in range(3):
        producer.submit_task(queue, n)
    wait_for(lambda: len(consumer.got) == 3, 10, "the first payloads")
    # killed while the consumer waits for more
    own_redis.kill()
    time.sleep(1.5)
    own_redis.start()
    for n in range(3, 6):
        producer.submit_task(queue, n)
    consumer.join(40)
    assert consumer.error is None
    assert consumer.got == list(range(6))
    producer.close()


@pytest.mark.slow
def test_redis_a_claim_held_and_a_submit_during_a_restart(own_redis):
    import redis
    queue = unique()
    transport = get_transport(own_redis.uri)
    transport.submit_task(queue, "held")
    transport.submit_task(queue, "next")
    claim = transport.claim(queue, timeout=1)
    own_redis.kill()
    threading.Timer(1.5, own_redis.start).start()
    transport.submit_task(queue, "during")     # waits, tries again, gets through
    claim.ack()                                 # the claim outlived the restart
    assert [transport.get_task(queue) for _ in range(3)] == ["next", "during", None]
    r = redis.Redis(port=own_redis.port)
    assert r.keys("jobconsole:claimed:*") == []
    r.close()
    transport.close()


def close_my_amqp_connections():
    """Close this process's connections from the server side, as a broker restart
    would: only ours, for the server is shared (close_all_connections would end
    everyone's). Returns how many."""
    me = f'"jobconsole {socket.gethostname()}:{os.getpid()}"'
    listing = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid",
                              "client_properties"],
                             capture_output=True, text=True, timeout=30).stdout
    pids = [line.split("\t")[0] for line in listing.splitlines() if me in line]
    closed = 0
    for pid in pids:
        # one listed may be closing already: its close fails
        closed += subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test"],
                                 capture_output=True, timeout=30).returncode == 0
    return closed


def rabbitmqctl_works():
    if not shutil.which("rabbitmqctl"):
        return "no rabbitmqctl"
    proc = subprocess.run(["rabbitmqctl", "-q", "list_connections", "name"],
                          capture_output=True, text=True, timeout=30)
    return None if proc.returncode == 0 else f"rabbitmqctl fails: {proc.stderr.strip()[:100]}"


@pytest.mark.slow
def test_amqp_connections_closed_by_the_server_lose_nothing():
    uri = needs("amqp")
    require(rabbitmqctl_works())
    queue = unique()
    producer = get_transport(uri)
    # holds each claim a while, so that a close may find one unacked
    consumer = Consumer(uri, queue, count=6, hold=0.3)
    try:
        consumer.start()
        for n in range(3):
            producer.submit_task(queue, n)
        wait_for(lambda: consumer.claimed.is_set(), 10, "a claim")
        assert close_my_amqp_connections() >= 2     # the producer's and the consumer's
        producer.submit_task(queue, 3)              # the producer reconnects
        # closed again while the consumer waits on an empty queue
        wait_for(lambda: set(consumer.got) == {0, 1, 2, 3}, 30, "the consumer back")
        time.sleep(0.5)
        close_my_amqp_connections()
        producer.submit_task(queue, 4)
        producer.submit_task(queue, 5)
        consumer.join(40)
        assert consumer.error is None
        # a claim held at a close comes again: every payload arrives, none is lost
        assert sorted(set(consumer.got)) == list(range(6))
        assert producer.get_task(queue) is None
    finally:
        producer.close()
        forget(uri, queue)


@pytest.mark.slow
def test_amqp_a_claim_held_when_its_connection_closes_comes_again():
    uri = needs("amqp")
    require(rabbitmqctl_works())
    queue = unique()
    transport = get_transport(uri)
    try:
        transport.submit_task(queue, "held")
        transport.submit_task(queue, "next")
        claim = transport.claim(queue, timeout=5)
        assert claim.payload == "held"
        assert close_my_amqp_connections() == 1
        # the broker put it back at the head; this transport reconnects to get it
        again = transport.claim(queue, timeout=10)
        assert again.payload == "held"
        claim.ack()     # of the old channel: void, not an error that closes the new one
        again.ack()
        assert transport.get_task(queue) == "next"
        assert transport.get_task(queue) is None
    finally:
        transport.close()
        forget(uri, queue)
