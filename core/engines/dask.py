"""Dask distributed: Tethys' DASK jobs run a function on a Dask cluster.

The function is named by its import path, so that any tracker can submit it and any Dask
worker that has the code can run it. On the Dask worker, `call` runs it in a child
process, because Dask cannot stop a running call: an abort sets a Dask Event that `call`
watches, and it kills the child. The child's stdout and stderr travel back as the
worker's events on the topic TOPIC, which the tracker's client follows into the task's
log. The future is published on the scheduler under its key, so a tracker that takes
over from a dead one finds it there.

A call runs once. If its Dask worker dies mid-call, Dask would run it again elsewhere;
`call` marks each task begun with an Event, and a second start refuses to run and ends
the task as a crash instead.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from typing import Any

from .. import imports
from ..errors import BadInput, EngineUnavailable
from . import State

NAME = "dask"
ENV_SCHEDULER = "JOBCONSOLE_DASK_SCHEDULER"
TOPIC = "jobconsole"
CONNECT_TIMEOUT = 10.0
LAST_LINES = 2.0    # seconds an ended call's last lines are waited for at most


class Stopped(Exception):
    """The call was stopped (job.stop(), abort-task): its child process was killed."""


class WorkerDied(Exception):
    """The Dask worker that ran the call died, and Dask started it again elsewhere."""


def missing() -> str | None:
    """Why Dask cannot be driven from this host, or None. Asked without importing
    distributed: every monitor asks, and that import costs a second and tens of MB."""
    if importlib.util.find_spec("distributed") is None:
        return "Dask's distributed is not installed (pip install 'jobconsole[dask]')"
    return None


def import_path(function: Any, what: str = "function") -> str:
    return imports.import_path(function, what, "by the Dask workers")


def scheduler_of(spec: dict[str, Any]) -> str:
    address = spec.get("scheduler") or os.environ.get(ENV_SCHEDULER)
    if not address:
        raise BadInput(f"a DASK job needs a scheduler attribute or ${ENV_SCHEDULER}")
    return address


def ping(address: str) -> None:
    """EngineUnavailable unless something listens at the scheduler's address (a TCP
    connection: a client's handshake would cost a tenth of a second more)."""
    host, _, port = address.rpartition("://")[2].rpartition(":")
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)),
                                 timeout=CONNECT_TIMEOUT).close()
    except (OSError, ValueError) as exc:
        raise EngineUnavailable(f"the Dask scheduler {address} does not answer: "
                                f"{exc}") from None


# -- on the Dask worker ---------------------------------------------------------------

def call(key: str, task_id: int, function: str, args: list[Any], kwargs: dict[str, Any],
         process_results: str | None) -> Any:
    """Run the function in a child process, its output sent as events, until it ends or
    the stop Event of its key is set."""
    from distributed import Event, get_worker
    worker = get_worker()
    began = Event(f"{key}-began")
    if began.is_set():
        raise WorkerDied(f"the Dask worker that ran task {task_id} died mid-call; "
                         "it is not run a second time")
    began.set()
    worker.log_event(TOPIC, {"task": task_id, "started": True})
    stop = Event(f"{key}-stop")
    with tempfile.TemporaryDirectory(prefix="jobconsole-dask-") as folder:
        result_path = os.path.join(folder, "result.json")
        # the child imports what this worker can import
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, result_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=env)
        assert child.stdin is not None and child.stdout is not None and child.stderr is not None
        child.stdin.write(json.dumps(dict(function=function, args=args, kwargs=kwargs,
                                          process_results=process_results)).encode())
        child.stdin.close()
        readers = [threading.Thread(target=_relay, args=(worker, task_id, pipe, source),
                                    daemon=True)
                   for pipe, source in ((child.stdout, "stdout:INFO"),
                                        (child.stderr, "stderr:ERROR"))]
        for reader in readers:
            reader.start()
        while child.poll() is None:
            if stop.wait(timeout=0.2):
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                raise Stopped(f"task {task_id} was stopped: its process was killed")
        for reader in readers:
            reader.join(timeout=5)
        # after its last lines: the tracker records the end once it has heard this
        worker.log_event(TOPIC, {"task": task_id, "key": key, "ended": True})
        with open(result_path) as f:
            outcome = json.load(f) if os.path.getsize(result_path) else {}
    if child.returncode or "error" in outcome:
        raise RuntimeError(outcome.get("error") or f"its process exited {child.returncode}")
    return outcome.get("result")


def _relay(worker: Any, task_id: int, pipe: Any, source: str) -> None:
    """The child's lines, a batch at most every 0.2 s, as the worker's events."""
    batch, last = [], time.monotonic()
    for raw in iter(pipe.readline, b""):
        batch.append(raw.decode("utf-8", "replace").rstrip("\n"))
        if time.monotonic() - last > 0.2:
            worker.log_event(TOPIC, {"task": task_id, "lines": batch, "source": source})
            batch, last = [], time.monotonic()
    if batch:
        worker.log_event(TOPIC, {"task": task_id, "lines": batch, "source": source})


# The child's program: run the function (and the results hook) and write the outcome.
# It imports nothing of jobconsole, whose import (psycopg) would add a quarter of a
# second to every call. A child whose Dask worker died (SIGKILL, out of memory) ends
# too, with what it started (its own process group), instead of running on unseen.
CHILD = """
import importlib, json, os, signal, sys, threading, time, traceback

def resolve(path):
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target

def die_with(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)

threading.Thread(target=die_with, args=(os.getppid(),), daemon=True).start()
job = json.load(sys.stdin)
try:
    result = resolve(job["function"])(*job["args"], **job["kwargs"])
    if job.get("process_results"):
        result = resolve(job["process_results"])(result)
    text, code = json.dumps({"result": result}), 0
except BaseException:
    text, code = json.dumps({"error": traceback.format_exc()}), 1
with open(sys.argv[1], "w") as f:
    f.write(text)
sys.stdout.flush()
sys.exit(code)
"""


# -- on the tracker's side ------------------------------------------------------------

def engine() -> Engine:
    return Engine()


class Engine:
    """The tracker's clients of the schedulers its jobs name, and their futures."""
    NAME = NAME

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.futures: dict[str, Any] = {}
        self.started: set[int] = set()
        self.ending: dict[str, float] = {}
        self.heard_end: set[str] = set()
        # set when a call of a future it holds ends: the tracker polls at once
        self.nudged = threading.Event()
        self.lines: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.lock = threading.Lock()

    def client(self, spec: dict[str, Any]) -> Any:
        from distributed import Client
        address = scheduler_of(spec)
        if address not in self.clients:
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise EngineUnavailable(f"the Dask scheduler {address} does not answer: "
                                        f"{exc}") from None
            client.subscribe_topic(TOPIC, self.heard)
            self.clients[address] = client
        return self.clients[address]

    def heard(self, event: Any) -> None:
        _, message = event
        with self.lock:
            if message.get("started"):
                self.started.add(message["task"])
            if message.get("ended"):
                self.heard_end.add(message["key"])
                self.nudged.set()
            for line in message.get("lines", ()):
                self.lines[message["task"]].append((line, message["source"]))

    def where(self, spec: dict[str, Any]) -> str:
        return scheduler_of(spec)

    def submit(self, task_id: int, spec: dict[str, Any]) -> str:
        client = self.client(spec)
        key = f"jobconsole-{task_id}-{uuid.uuid4().hex[:8]}"
        future = client.submit(call, key, task_id, spec["function"], spec.get("args") or [],
                               spec.get("kwargs") or {}, spec.get("process_results"),
                               key=key, pure=False)
        client.publish_dataset(future, name=key)
        future.add_done_callback(lambda _: self.nudged.set())
        self.futures[key] = future
        return key

    def find(self, task_id: int, spec: dict[str, Any]) -> str | None:
        prefix = f"jobconsole-{task_id}-"
        found = [k for k in self.client(spec).list_datasets() if str(k).startswith(prefix)]
        return found[-1] if found else None

    def states(self, jobs: dict[str, dict[str, Any]]) -> dict[str, State]:
        said = {}
        for key, spec in jobs.items():
            future = self.futures.get(key)
            if future is None:
                try:
                    future = self.futures[key] = self.client(spec).get_dataset(key)
                    future.add_done_callback(lambda _: self.nudged.set())
                except KeyError:    # the scheduler does not know it (restarted?)
                    continue
                except EngineUnavailable:
                    said[key] = State("unreachable", "away")
                    continue
            said[key] = self.state(key, future)
        return said

    def state(self, key: str, future: Any) -> State:
        task_id = int(key.split("-")[1])
        status = future.status
        if status != "pending" and key not in self.heard_end:
            # its last lines travel apart from its end: they are waited for a moment
            first = self.ending.setdefault(key, time.monotonic())
            if time.monotonic() - first < LAST_LINES:
                status = "pending"
        if status == "pending":
            return State("processing", "running") if task_id in self.started \
                else State("pending", "queued")
        if status == "finished":
            state = State("finished", "ended", "done", output=future.result())
        elif status == "cancelled":
            state = State("cancelled", "ended", "aborted", "abort")
        else:
            exc = future.exception()
            if isinstance(exc, Stopped):
                state = State("stopped", "ended", "aborted", "abort", message=str(exc))
            elif isinstance(exc, RuntimeError):
                state = State("error", "ended", "failed", "error", message=str(exc))
            else:   # WorkerDied, KilledWorker, a lost future
                state = State(status, "ended", "failed", "crash",
                              message=f"{type(exc).__name__}: {exc}")
        self.forget(key)
        return state

    def forget(self, key: str) -> None:
        """Release what the scheduler keeps of an ended call: its future and Events."""
        from distributed import Event
        self.ending.pop(key, None)
        self.heard_end.discard(key)
        future = self.futures.pop(key, None)
        if future is not None:
            with contextlib.suppress(KeyError, OSError):
                future.client.unpublish_dataset(key)
            for name in (f"{key}-began", f"{key}-stop"):
                with contextlib.suppress(OSError):
                    Event(name, client=future.client).clear()
            future.release()

    def cancel(self, jobs: dict[str, dict[str, Any]]) -> None:
        from distributed import Event
        for key, spec in jobs.items():
            client = self.client(spec)
            Event(f"{key}-stop", client=client).set()
            future = self.futures.get(key)
            if future is not None and int(key.split("-")[1]) not in self.started:
                future.cancel()

    def new_output(self, task_id: int, spec: dict[str, Any], positions: tuple[int, int],
                   ended: bool) -> tuple[list[str], list[str], tuple[int, int]]:
        with self.lock:
            heard = self.lines.pop(task_id, [])
        return [line for line, _ in heard], [source for _, source in heard], positions

    def close(self) -> None:
        for client in self.clients.values():
            try:
                client.close()
            except Exception:   # a scheduler gone already
                pass

