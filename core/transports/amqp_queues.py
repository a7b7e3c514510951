"""The amqp transport: rex.asynctask's durable queues on RabbitMQ (AMQP 0-9-1).

Each queue is durable and bound to a direct exchange of the same name, with its name
as the routing key: what rex.asynctask declares (through kombu's SimpleQueue), so that
its producers and workers and ours declare the same things and share the queues.
Messages are persistent and published with confirms: submit_task returns once the
broker holds the payload. Each carries its time of submission (the timestamp property).

A claim is a delivery not yet acknowledged: the first of a batch is waited for with a
prefetch of 1, the rest gathered with a prefetch of the batch's size, and the batch is
settled with one ack (or nack) for all. The broker gives them back itself when its
consumer's connection ends, so `recover` has nothing to do.
After a reconnect, a claim's ack would name a delivery of the old channel: it is
dropped, as the broker has put that message back already (it comes again: at least once).

AMQP cannot list queues, and the management API is a plugin that may be off: `queues`
reports the queues this transport has used, with the depth a passive declare returns.
Their oldest age would need the head consumed, so it is unknown (None).
"""
from __future__ import annotations

import contextlib
import json
import time
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pika
from pika import exceptions as amqp
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from ..capture import say
from ..errors import BadInput, DatabaseUnavailable, JobconsoleError
from .base import (BATCH, Batch, Claim, QueueStats, Transport, check_queue, consumer_name,
                   encode, patiently)

# a producer waits this long for a broker that is away before it is told; consumers wait
PATIENCE = 30.0
# a wait for a delivery is cut into slices, so that a deadline is kept
_SLICE = 2.0
# how long a batch waits for deliveries the broker is still pushing
_GATHER = 0.01
# a handshake that times out (AMQPConnectorException) is not an AMQPError
_LOST = (amqp.AMQPConnectionError, amqp.ChannelWrongStateError, amqp.ConsumerCancelled,
         AMQPConnectorException, OSError)
# payloads found that are not JSON are set aside here, their queue named in a header
REJECTED = "jobconsole.rejected"


class AmqpTransport(Transport):
    scheme = "amqp"

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.params, self._shown = _parse(uri)
        self._conn: pika.BlockingConnection | None = None
        self._ch: Any = None
        # delivery tags are the channel's: a claim made on an older one is void
        self._generation = 0
        # the highest tag of this channel acked or put back: a settle of `multiple`
        # reaches every tag below its own, so one below this has nothing left to settle
        self._settled = 0
        self._declared: set[str] = set()
        self._used: set[str] = set()
        try:
            self._channel()
        except (amqp.AMQPError, *_LOST) as exc:
            self._drop()
            raise DatabaseUnavailable(f"{self.shown}: cannot use the AMQP server: "
                                      f"{_why(exc)}") from None

    @property
    def shown(self) -> str:
        return self._shown

    def submit_task(self, queue: str, payload: Any) -> None:
        queue, body = _check(queue), encode(payload).encode()

        def publish() -> None:
            # mandatory and confirmed: an unroutable or refused message raises
            self._declare(queue).basic_publish(
                queue, queue, body, mandatory=True, properties=pika.BasicProperties(
                    content_type="application/json", delivery_mode=2,
                    timestamp=int(time.time())))

        self._calling(publish, f"submit to {queue}", PATIENCE)

    def get_task(self, queue: str) -> Any:
        taken = self._calling(lambda: self._take(_check(queue), time.monotonic()),
                              f"take from {queue}", PATIENCE)
        if taken is None:
            return None
        self._settle(queue, "ack", taken[0], self._generation)
        return taken[1]

    def claim(self, queue: str, timeout: float) -> Claim | None:
        batch = self.claim_batch(queue, timeout, 1)
        if batch is None:
            return None
        return Claim(queue, batch.payloads[0], batch.ack, batch.release)

    def claim_batch(self, queue: str, timeout: float, limit: int = BATCH) -> Batch | None:
        """Deliveries of one channel, settled together: one ack or nack with `multiple`
        for the last of them covers them all."""
        queue, deadline = _check(queue), time.monotonic() + timeout
        first = self._calling(lambda: self._take(queue, deadline), f"claim from {queue}")
        if first is None:
            return None
        taken, generation = [first], self._generation
        if limit > 1:
            more = self._calling(lambda: self._gather(queue, limit - 1), f"claim from {queue}")
            if self._generation != generation:
                # a reconnect voided the first delivery: the broker gives it again
                taken, generation = [], self._generation
            taken += more
        if not taken:
            return None
        return Batch([payload for _, payload in taken],
                     lambda: self._settle(queue, "ack", taken[-1][0], generation),
                     lambda: self._settle(queue, "release", taken[-1][0], generation))

    def recover(self, queue: str) -> int:
        return 0    # the broker gives back what a closed connection held

    def queues(self) -> list[QueueStats]:
        found = []
        for queue in sorted(self._used):
            def depth() -> int:
                return self._channel().queue_declare(queue, passive=True).method.message_count
            try:
                found.append(QueueStats(self.shown, queue, self._calling(
                    depth, f"count {queue}", PATIENCE), None))
            except BadInput:
                pass    # deleted since: gone from the broker, so gone from the list
        return found

    def close(self) -> None:
        # the broker gives back what this connection still held
        self._drop()

    # -- deliveries -----------------------------------------------------------------------

    def _take(self, queue: str, deadline: float) -> tuple[int, Any] | None:
        while True:
            ch = self._declare(queue)
            if deadline - time.monotonic() <= 0:
                method, properties, body = ch.basic_get(queue, auto_ack=False)
            else:
                # a consumer for one delivery: prefetch 1 keeps the broker from pushing
                # more, and no consumer stays behind to hold a message nobody asked for
                method = None
                for method, properties, body in ch.consume(
                        queue, inactivity_timeout=max(0.05, min(deadline - time.monotonic(), _SLICE))):
                    if method is not None or time.monotonic() >= deadline:
                        break
                ch.cancel()
            if method is None:
                return None
            try:
                payload = json.loads(body)
            except ValueError:
                self._reject(ch, queue, method, properties, body)
                continue
            return method.delivery_tag, payload

    def _gather(self, queue: str, limit: int) -> list[tuple[int, Any]]:
        """Up to `limit` more deliveries, those the broker has at hand: one consumer
        with a prefetch of `limit` takes them in one go, where a basic_get would cost a
        round trip each."""
        ch = self._declare(queue)
        ch.basic_qos(prefetch_count=limit)
        taken: list[tuple[int, Any]] = []
        try:
            for method, properties, body in ch.consume(queue, inactivity_timeout=_GATHER):
                if method is None:
                    break
                try:
                    taken.append((method.delivery_tag, json.loads(body)))
                except ValueError:
                    self._reject(ch, queue, method, properties, body)
                if len(taken) >= limit:
                    break
        finally:
            # deliveries pushed but not taken go back, each by itself (pika rejects
            # them one by one, never `multiple`, which would reach ours too)
            ch.cancel()
            ch.basic_qos(prefetch_count=1)
        return taken

    def _settle(self, queue: str, how: str, last_tag: int, generation: int) -> None:
        """Ack or put back every delivery of this channel up to `last_tag`."""
        if generation != self._generation:
            say(f"{self.shown}: {how} on {queue} after a reconnect: the broker gives "
                "the payloads again")
            return
        if last_tag <= self._settled:
            return      # a later batch's nack, which covered this one, put it back
        try:
            if how == "ack":
                self._ch.basic_ack(last_tag, multiple=True)
            else:
                self._ch.basic_nack(last_tag, multiple=True, requeue=True)
            self._settled = last_tag
        except _LOST:
            self._drop()
            say(f"{self.shown}: connection lost before the {how} on {queue}: the "
                "broker gives the payloads again")

    def _reject(self, ch: Any, queue: str, method: Any, properties: Any, body: bytes) -> None:
        # set aside where a person can look, not dropped: it may be someone's data
        ch.queue_declare(REJECTED, durable=True)
        headers = dict(properties.headers or {}, queue=queue)
        ch.basic_publish("", REJECTED, body, properties=pika.BasicProperties(
            delivery_mode=2, headers=headers, timestamp=properties.timestamp))
        ch.basic_ack(method.delivery_tag)

    # -- the connection -------------------------------------------------------------------

    def _channel(self) -> Any:
        if self._ch is None or not self._ch.is_open:
            if self._conn is None or not self._conn.is_open:
                self._conn = pika.BlockingConnection(self.params)
                self._declared.clear()
            self._ch = self._conn.channel()
            self._ch.confirm_delivery()
            self._ch.basic_qos(prefetch_count=1)
            self._generation += 1
            self._settled = 0
        return self._ch

    def _declare(self, queue: str) -> Any:
        ch = self._channel()
        if queue not in self._declared:
            ch.exchange_declare(queue, "direct", durable=True)
            ch.queue_declare(queue, durable=True)
            ch.queue_bind(queue, queue, routing_key=queue)
            self._declared.add(queue)
            self._used.add(queue)
        return ch

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = self._ch = None

    def _calling(self, op: Any, what: str, give_up: float | None = None) -> Any:
        """op() on a connection made again while the broker is away; a refusal that
        only closes the channel (a queue declared otherwise, say) is the caller's."""
        try:
            return patiently(op, _LOST, f"{self.shown}: {what}", self._drop, give_up)
        except amqp.ChannelClosedByBroker as exc:
            self._ch = None
            raise BadInput(f"{self.shown}: {what}: {exc.reply_text}") from None
        except amqp.AMQPChannelError as exc:
            self._ch = None
            raise JobconsoleError(f"{self.shown}: {what}: {_why(exc)}") from None


def _check(queue: Any) -> str:
    queue = check_queue(queue)
    if len(queue.encode()) > 255:
        raise BadInput(f"an AMQP queue name must be at most 255 bytes in UTF-8, "
                       f"got {len(queue.encode())}")
    if queue.startswith("amq."):
        raise BadInput(f"{queue!r:.60}: AMQP keeps names starting 'amq.' for the broker")
    return queue


def _why(exc: BaseException) -> str:
    """pika's errors in one line: some hold a reply code and text, some the error
    underneath."""
    while True:
        inner = getattr(exc, "exception", None) or (getattr(exc, "exceptions", None) or [None])[-1]
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if inner is None:
            break
        exc = inner
    text = getattr(exc, "reply_text", None) or str(exc) or type(exc).__name__
    if isinstance(exc, AMQPConnectorException) and "handshake" in text:
        text = "no AMQP handshake: is this port an AMQP server's?"
    return " ".join(text.split())[:300]


def _parse(uri: str) -> tuple[pika.URLParameters, str]:
    """pika's parameters, and the URI shown without its password."""
    parts = urlsplit(uri)
    try:
        port = parts.port
        params = pika.URLParameters(uri)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"{uri!r:.80}: not an AMQP URI (amqp://user:password@host:port/vhost): "
                       f"{_why(exc)}") from None
    if not parts.hostname:
        raise BadInput(f"{uri!r:.80}: an amqp transport needs a host "
                       "(amqp://user:password@host:port/vhost)")
    # one try here: waiting for a broker is the transport's own loop (patiently)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.stack_timeout = 10
    params.blocked_connection_timeout = 60
    params.client_properties = {"connection_name": f"jobconsole {consumer_name()}"}
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if parts.username:
        netloc = f"{unquote(parts.username)}@{netloc}"
    return params, urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
