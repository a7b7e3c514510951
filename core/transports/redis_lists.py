"""The redis transport: rex.asynctask's lists, claimed so that no payload is lost.

    <prefix>_<queue>                       waiting, oldest at the head (rex.asynctask's key)
    jobconsole:consumer:<id>               a live consumer: expires unless it renews it
    jobconsole:claimers:<waiting key>      the consumers that have claimed from that queue
    jobconsole:claimed:<id>:<waiting key>  what consumer <id> holds until ack, oldest first
    jobconsole:rejected:<waiting key>      items found waiting that are not JSON

The prefix is rex.asynctask's own (`asynctask`, or its `key_prefix` option; empty for
bare queue names), and payloads are stored bare as it stores them, so that rex
producers and rex workers share these queues with us while an application moves over.
For the same reason no envelope holds the time of submission (a rex worker would get
the envelope as its payload): Redis lists keep no times, so a queue's oldest age is
unknown (None).

A claim moves the head to the consumer's own list in one step (LMOVE), so a payload is
always in exactly one list. Whether a consumer lives is a key it renews with a time to
live: Redis judges it, so `recover` works from any host, where a pid and start time
(hosts.py) mean something only on the consumer's own.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..errors import BadInput, DatabaseUnavailable, first_line
from .base import (BATCH, Batch, Claim, QueueStats, Transport, batch_of, check_queue,
                   consumer_name, encode, patiently)

# a consumer not heard of for this long is gone; it renews at a third of that
LEASE = 15.0
# a producer waits this long for a server that is away before it is told; consumers wait
PATIENCE = 30.0
# a wait for a payload is cut into slices: a server gone without a word (a cut cable)
# is noticed after one, when the socket times out
_SLICE = 2.0
# BusyLoadingError, a server still reading its append-only file, is a ConnectionError
_LOST = (redis.ConnectionError, redis.TimeoutError)
_OURS = "jobconsole:"
_OPTIONS = {"db", "key_prefix"}

# back at the head only if still held: a recover that took it first must not double it
_RELEASE = """if redis.call('LREM', KEYS[1], -1, ARGV[1]) > 0 then
    return redis.call('LPUSH', KEYS[2], ARGV[1]) end
return 0"""
# A batch's claim and its acknowledgement, each one command and one reply: pipelined,
# 400 LMOVEs and 400 LREMs cost the intake thread most of its time in the client's
# packing and parsing (py-spy).
_TAKE_MANY = """local taken = {}
for _ = 1, tonumber(ARGV[1]) do
    local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
    if not item then break end
    taken[#taken + 1] = item
end
return taken"""
# A batch is acknowledged in the order it was claimed, oldest first, and the batch
# claimed after it is in the list behind it: each item is found at the head (LREM from
# the tail walked the newer batch for every one, 400 x 400 comparisons a batch).
_ACK_MANY = """for _, item in ipairs(ARGV) do redis.call('LREM', KEYS[1], 1, item) end
return #ARGV"""


class RedisTransport(Transport):
    scheme = "redis"

    def __init__(self, uri: str, lease: float = LEASE) -> None:
        super().__init__(uri)
        options, self.prefix, self._shown = _parse(uri)
        self.lease = lease
        self.me = f"{consumer_name()}:{secrets.token_hex(4)}"
        # retries are ours (patiently): redis-py's own would hide a lost LMOVE reply.
        # Any: its annotations refuse bytes values and fractional BLMOVE timeouts, which
        # Redis takes
        self.redis: Any = redis.Redis(**options, socket_timeout=_SLICE + 5, socket_connect_timeout=5,
                                 retry=Retry(NoBackoff(), 0), client_name="jobconsole")
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            self.redis.close()
            raise DatabaseUnavailable(f"{self.shown}: cannot use Redis: {first_line(exc)}") from None
        self._release_script = self.redis.register_script(_RELEASE)
        self._take_many = self.redis.register_script(_TAKE_MANY)
        self._ack_many = self.redis.register_script(_ACK_MANY)
        self._held: Counter[tuple[str, bytes]] = Counter()
        self._renewing: threading.Event | None = None
        self._claimed_from: set[str] = set()

    @property
    def shown(self) -> str:
        return self._shown

    def submit_task(self, queue: str, payload: Any) -> None:
        key, text = self._key(check_queue(queue)), encode(payload)
        self._patiently(lambda: self.redis.rpush(key, text), f"submit to {queue}", PATIENCE)

    def get_task(self, queue: str) -> Any:
        # rex.asynctask's own LPOP: taken for good, with no claim to keep
        key = self._key(check_queue(queue))
        while True:
            raw = self._patiently(lambda: self.redis.lpop(key), f"take from {queue}", PATIENCE)
            if raw is None:
                return None
            try:
                return json.loads(raw)
            except ValueError:
                self._patiently(lambda: self.redis.rpush(_rejected(key), raw), "reject", PATIENCE)

    def claim(self, queue: str, timeout: float) -> Claim | None:
        taken = self._claim_one(queue, timeout)
        return taken and taken[1]

    def _claim_one(self, queue: str, timeout: float) -> tuple[bytes, Claim] | None:
        """(the payload as stored, its claim), or None when none came in time."""
        key = self._key(check_queue(queue))
        mine = self._claimed(key, self.me)
        deadline = time.monotonic() + timeout
        while True:
            raw = self._patiently(lambda: self._take(key, mine, deadline), f"claim from {queue}")
            if raw is None:
                return None
            try:
                payload = json.loads(raw)
            except ValueError:
                self._patiently(lambda: self._reject(mine, key, raw), "reject")
                continue
            self._held[key, raw] += 1
            return raw, self._claim(queue, key, mine, raw, payload)

    def claim_batch(self, queue: str, timeout: float, limit: int = BATCH) -> Batch | None:
        # after the first, the rest in one script, acknowledged in one
        first = self._claim_one(queue, timeout)
        if first is None:
            return None
        key = self._key(queue)
        mine = self._claimed(key, self.me)
        raws, claims = [first[0]], [first[1]]
        try:
            def more() -> list[bytes]:
                return self._take_many(keys=[key, mine], args=[limit - 1]) if limit > 1 else []
            for raw in self._patiently(more, f"claim from {queue}"):
                try:
                    payload = json.loads(raw)
                except ValueError:
                    self._patiently(lambda: self._reject(mine, key, raw), "reject")
                    continue
                self._held[key, raw] += 1
                raws.append(raw)
                claims.append(self._claim(queue, key, mine, raw, payload))
        except BaseException:
            batch_of(claims).release()
            raise

        def ack() -> None:
            self._patiently(lambda: self._ack_many(keys=[mine], args=raws), f"ack on {queue}")
            for raw in raws:
                self._forget(key, raw)
        batch = batch_of(claims)
        return Batch(batch.payloads, ack, batch.release)

    def recover(self, queue: str) -> int:
        key = self._key(check_queue(queue))
        returned = [0]

        def put_back() -> None:
            for member in self.redis.smembers(_claimers(key)):
                consumer = member.decode()
                if consumer == self.me or self.redis.exists(_consumer(consumer)):
                    continue
                # newest first, each to the head: the oldest ends up first, as it was
                while self.redis.lmove(self._claimed(key, consumer), key, "RIGHT", "LEFT"):
                    returned[0] += 1
                self.redis.srem(_claimers(key), consumer)

        self._patiently(put_back, f"recover {queue}", PATIENCE)
        return returned[0]

    def queues(self) -> list[QueueStats]:
        def listing() -> list[tuple[bytes, int]]:
            pattern = _glob_quote(f"{self.prefix}_") + "*" if self.prefix else "*"
            keys = sorted(k for k in self.redis.scan_iter(match=pattern, count=1000, _type="list")
                          if not k.startswith(_OURS.encode()))
            pipe = self.redis.pipeline(transaction=False)
            for k in keys:
                pipe.llen(k)
            return list(zip(keys, pipe.execute()))

        skip = len(self.prefix) + 1 if self.prefix else 0
        return [QueueStats(self.shown, key[skip:].decode("utf-8", "replace"), depth, None)
                for key, depth in self._patiently(listing, "list queues", PATIENCE) if depth]

    def close(self) -> None:
        """What this consumer still holds goes back at once, not when its lease ends."""
        if self._renewing is not None:
            self._renewing.set()
            self._renewing = None
        try:
            for (key, raw), count in list(self._held.items()):
                for _ in range(count):
                    self._release_script(keys=[self._claimed(key, self.me), key], args=[raw])
            self._held.clear()
            pipe = self.redis.pipeline(transaction=False)
            for key in self._claimed_from:
                pipe.srem(_claimers(key), self.me)
            pipe.delete(_consumer(self.me))
            pipe.execute()
        except redis.RedisError:
            pass    # the lease ends anyway, and recover puts back what this held
        finally:
            self.redis.close()

    # -- claims ---------------------------------------------------------------------------

    def _take(self, key: str, mine: str, deadline: float) -> bytes | None:
        while True:
            # alive and listed as a claimer before taking: a death right after is recovered
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(_consumer(self.me), "1", px=int(self.lease * 1000))
            pipe.sadd(_claimers(key), self.me)
            pipe.llen(mine)
            *_, holding = pipe.execute()
            self._claimed_from.add(key)
            self._start_renewing()
            # a list not as long as this consumer's Claims: maybe an LMOVE whose reply a
            # broken connection lost, the oldest payload, so it comes first. (Its length
            # first: the list holds the batch being recorded, which a claim would
            # otherwise read and count whole each time.)
            if holding != sum(n for (k, _), n in self._held.items() if k == key):
                unknown = Counter((key, raw) for raw in self.redis.lrange(mine, 0, -1)) \
                    - self._held
                if unknown:
                    return next(iter(unknown))[1]
            left = deadline - time.monotonic()
            if left <= 0:
                return self.redis.lmove(key, mine, "LEFT", "RIGHT")
            # BLMOVE's timeout 0 would wait for ever: the loop's last look is the LMOVE
            raw = self.redis.blmove(key, mine, min(left, _SLICE), "LEFT", "RIGHT")
            if raw is not None:
                return raw

    def _claim(self, queue: str, key: str, mine: str, raw: bytes, payload: Any) -> Claim:
        def ack() -> None:
            self._patiently(lambda: self.redis.lrem(mine, -1, raw), f"ack on {queue}")
            self._forget(key, raw)

        def release() -> None:
            self._patiently(lambda: self._release_script(keys=[mine, key], args=[raw]),
                            f"release on {queue}")
            self._forget(key, raw)

        return Claim(queue, payload, ack, release)

    def _forget(self, key: str, raw: bytes) -> None:
        self._held[key, raw] -= 1
        if self._held[key, raw] <= 0:
            del self._held[key, raw]

    def _reject(self, mine: str, key: str, raw: bytes) -> None:
        # set aside where a person can look, not dropped: it may be someone's data
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrem(mine, -1, raw)
        pipe.rpush(_rejected(key), raw)
        pipe.execute()

    def _start_renewing(self) -> None:
        """A thread renews the lease while this transport lives, so that a consumer busy
        with a claim (waiting for PostgreSQL, say) is not taken for dead."""
        if self._renewing is not None:
            return
        stop = self._renewing = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease / 3):
                try:
                    self.redis.set(_consumer(self.me), "1", px=int(self.lease * 1000))
                except redis.RedisError:
                    pass    # the server is away: the next renewal or claim tries again

        threading.Thread(target=renew, name="jobconsole redis lease", daemon=True).start()

    # -- names and connections ------------------------------------------------------------

    def _key(self, queue: str) -> str:
        key = f"{self.prefix}_{queue}" if self.prefix else queue
        if key.startswith(_OURS):
            raise BadInput(f"{key!r:.60}: keys starting {_OURS!r} are the transport's own")
        return key

    @staticmethod
    def _claimed(key: str, consumer: str) -> str:
        return f"{_OURS}claimed:{consumer}:{key}"

    def _patiently(self, op: Any, what: str, give_up: float | None = None) -> Any:
        # redis-py drops a broken connection from its pool itself: the next try opens one
        return patiently(op, _LOST, f"{self.shown}: {what}", give_up=give_up)


def _consumer(consumer: str) -> str:
    return f"{_OURS}consumer:{consumer}"


def _claimers(key: str) -> str:
    return f"{_OURS}claimers:{key}"


def _rejected(key: str) -> str:
    return f"{_OURS}rejected:{key}"


def _glob_quote(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _parse(uri: str) -> tuple[dict[str, Any], str, str]:
    """redis-py's arguments, the key prefix and the URI shown (without its password)
    from rex.asynctask's redis://host[:port][?db=N][&key_prefix=P] or redis:///socket."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        raise BadInput(f"{uri!r:.80}: the port must be a number from 1 to 65535") from None
    options = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise BadInput(f"{uri!r:.80}: unknown option {sorted(unknown)[0]!r}: "
                       f"use {' or '.join(sorted(_OPTIONS))}")
    args: dict[str, Any] = {}
    db = options.get("db", "0")
    if parts.hostname:
        args.update(host=parts.hostname, port=port or 6379)
        # redis-py's own spelling of the database, redis://host/2, is understood too
        if parts.path.strip("/"):
            db = parts.path.strip("/")
    elif parts.path:
        args["unix_socket_path"] = unquote(parts.path)
    else:
        raise BadInput(f"{uri!r:.80}: a redis transport needs a host (redis://host[:port])")
    if not db.isdigit():
        raise BadInput(f"{uri!r:.80}: db must be a database number, got {db!r:.20}")
    args["db"] = int(db)
    if parts.username:
        args["username"] = unquote(parts.username)
    if parts.password:
        args["password"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if port:
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    shown = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return args, options.get("key_prefix", "asynctask"), shown
