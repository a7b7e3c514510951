"""The filesys transport: one file per payload, for consumers on one host.

    ROOT/<queue>/<submitted ns>-<random>.json       waiting, oldest first by name
    ROOT/<queue>/.claimed/<host>:<pid>:<start>/...  claimed by that consumer
    ROOT/<queue>/.rejected/...                      files found there that are not JSON
    ROOT/.tmp/...                                   being written

Every step that others can see is a rename, which POSIX makes atomic within one file
system: a payload appears whole or not at all, and of several consumers renaming the
same file, one wins and the others find it gone. A consumer's directory names its
process by pid and start time, so that `recover` can tell it is gone (hosts.py).
"""
from __future__ import annotations

import collections
import itertools
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from .. import hosts
from ..errors import BadInput
from .base import BATCH, Batch, Claim, QueueStats, Transport, batch_of, check_queue, encode

_CLAIMED = ".claimed"
_TMP = ".tmp"
_REJECTED = ".rejected"
# how often a consumer waiting on an empty queue looks again: no notifications here
_LOOK_EVERY = 0.1


class FilesysTransport(Transport):
    scheme = "filesys"

    def __init__(self, uri: str, root: str) -> None:
        super().__init__(uri)
        self.root = Path(root)
        try:
            (self.root / _TMP).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot use {root} as a queue directory: {exc.strerror}") from None
        me = os.getpid()
        self._me = f"{hosts.this_host()}:{me}:{hosts.started(me)}"
        # folder -> the names one listing found, not tried yet: a deep queue is listed
        # once per pass, not once per batch (a listing of 50,000 files costs ~20 ms)
        self._pending: dict[Path, collections.deque[str]] = {}

    def submit_task(self, queue: str, payload: Any) -> None:
        folder, text = self._folder(check_queue(queue)), encode(payload)
        folder.mkdir(exist_ok=True)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        tmp = self.root / _TMP / name
        with open(tmp, "w") as f:
            f.write(text)
            # the rename must not publish a file whose data a crash could still lose
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, folder / name)

    def claim(self, queue: str, timeout: float) -> Claim | None:
        folder = self._folder(check_queue(queue))
        deadline = time.monotonic() + timeout
        while True:
            for claim in self._take(queue, folder):
                return claim
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(_LOOK_EVERY, max(0.0, deadline - time.monotonic())))

    def claim_batch(self, queue: str, timeout: float, limit: int = BATCH) -> Batch | None:
        # the rest of a batch from one listing of the folder, not one listing a payload
        first = self.claim(queue, timeout)
        if first is None:
            return None
        claims = [first]
        try:
            claims.extend(itertools.islice(self._take(queue, self._folder(queue)), limit - 1))
        except BaseException:
            batch_of(claims).release()
            raise
        return batch_of(claims)

    def _take(self, queue: str, folder: Path) -> Iterator[Claim]:
        """Claims of the payloads waiting in `folder`, oldest first, as the last
        listing shows them (listed again once all its names were tried); those another
        consumer took first are passed over."""
        pending = self._pending.get(folder)
        if not pending:
            pending = self._pending[folder] = collections.deque(self._waiting(folder))
        if not pending:
            return
        (folder / _CLAIMED / self._me).mkdir(parents=True, exist_ok=True)
        # Names relative to the folder's descriptor, as plain text: an intake is one
        # thread, and its cost a payload bounds a daemon's rate. Paths built per
        # payload, and the kernel's walk of each full path, were a third of it.
        mine = f"{_CLAIMED}/{self._me}/"
        at = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            while pending:
                name = pending.popleft()
                try:
                    os.rename(name, mine + name, src_dir_fd=at, dst_dir_fd=at)
                except FileNotFoundError:
                    continue        # another consumer took it first
                try:
                    payload = json.loads(_read(mine + name, at))
                except ValueError:
                    # not ours (we write JSON whole): set aside, where a person can look
                    (folder / _REJECTED).mkdir(exist_ok=True)
                    os.rename(mine + name, f"{_REJECTED}/{name}", src_dir_fd=at, dst_dir_fd=at)
                    continue
                yield self._claim(queue, folder, f"{folder}/{mine}{name}", payload)
        finally:
            os.close(at)

    def recover(self, queue: str) -> int:
        folder = self._folder(check_queue(queue))
        self._pending.pop(folder, None)
        returned = 0
        for consumer in _listing(folder / _CLAIMED):
            host, pid, started = _process(consumer)
            if host != hosts.this_host() or pid is None or hosts.alive(pid, started):
                continue
            for name in _listing(folder / _CLAIMED / consumer):
                os.rename(folder / _CLAIMED / consumer / name, folder / name)
                returned += 1
            try:
                (folder / _CLAIMED / consumer).rmdir()
            except OSError:
                pass
        return returned

    def queues(self) -> list[QueueStats]:
        found = []
        now = time.time_ns()
        for entry in _listing(self.root):
            if entry.startswith("."):
                continue
            waiting = self._waiting(self.root / entry)
            age = (now - int(waiting[0].split("-")[0])) / 1e9 if waiting else None
            found.append(QueueStats(self.shown, unquote(entry), len(waiting), age))
        return found

    def _folder(self, queue: str) -> Path:
        # any text names a queue: quoted, it is one safe file name ('.' too, so that
        # no queue is '..' or hidden like our own directories)
        return self.root / quote(queue, safe="").replace(".", "%2E")

    @staticmethod
    def _waiting(folder: Path) -> list[str]:
        return sorted(n for n in _listing(folder) if n.endswith(".json"))

    def _claim(self, queue: str, folder: Path, path: str, payload: Any) -> Claim:
        def ack() -> None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

        def release() -> None:
            os.rename(path, folder / os.path.basename(path))
            # back at the head: the next claim lists the folder afresh to find it
            self._pending.pop(folder, None)

        return Claim(queue, payload, ack, release)


def _read(name: str, at: int) -> bytes:
    fd = os.open(name, os.O_RDONLY, dir_fd=at)
    try:
        parts = []
        while part := os.read(fd, 1 << 20):
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _process(consumer: str) -> tuple[str | None, int | None, float | None]:
    """(host, pid, start time) from a consumer's directory name host:pid:start."""
    try:
        host, pid, started = consumer.rsplit(":", 2)
        return host, int(pid), (None if started == "None" else float(started))
    except ValueError:
        return None, None, None
