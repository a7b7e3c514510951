"""Where the database is, and connections to it with errors a person can act on.

Resolution order (docs/architecture.md): an explicit dsn, then $JOBCONSOLE_DSN, then
the embedded server in the user's data directory, which is started on demand and whose
schema is created on first use (it is ours; an external database is only touched by
`init-db`).
"""
import atexit
import os
import threading
from typing import Any
from contextlib import contextmanager

import psycopg
from psycopg import conninfo, pq

from . import schema
from .errors import Cancelled, DatabaseUnavailable, first_line

ENV_DSN = "JOBCONSOLE_DSN"
_checked: set[str] = set()   # dsns whose schema this process has verified
POOL_WAIT = 10.0          # seconds to wait for a pooled connection before giving up
_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


def resolve(dsn=None):
    """The dsn to use: explicit, then $JOBCONSOLE_DSN, then the embedded server."""
    dsn = dsn or os.environ.get(ENV_DSN)
    if dsn:
        validate(dsn)
        return dsn
    from . import embedded
    dsn = embedded.ensure_running()
    if dsn not in _checked:
        with connect(dsn, check_schema=False) as conn:
            schema.init_db(conn)
        _checked.add(dsn)
    return dsn


def validate(dsn):
    if dsn in _checked:
        return
    try:
        conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise DatabaseUnavailable(f"invalid DSN: {first_line(exc)}") from None


def describe(dsn):
    """A short human name for a dsn: user@host:port/dbname."""
    p = conninfo.conninfo_to_dict(dsn)
    host = p.get("host") or "localhost"
    if host.startswith("/"):
        host = "socket"
    return f"{p.get('user', '')}@{host}:{p.get('port', 5432)}/{p.get('dbname', '')}".lstrip("@")


# what PostgreSQL answers a connection it has no slot for: to a superuser, and to others
# once only the slots reserved for superusers are left
_FULL = ("too many clients", "remaining connection slots are reserved")


def _full(exc):
    """The remedy, when the server refused for want of a free connection slot."""
    if any(words in str(exc) for words in _FULL):
        return " (the server is full: raise max_connections, or start fewer workers)"
    return ""


def connect(dsn, *, autocommit=True, check_schema=True, **kwargs):
    """A psycopg connection, or DatabaseUnavailable/SchemaError with a one-line reason."""
    validate(dsn)
    kwargs.setdefault("connect_timeout", 10)
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to {describe(dsn)}: {first_line(exc)}{_full(exc)}") from None
    if check_schema and dsn not in _checked:
        try:
            schema.check(conn)
        except BaseException:
            conn.close()
            raise
        _checked.add(dsn)
    return conn


class Cancel:
    """Stops, from another thread, the statements of the calls it was given (pooled's
    `cancel`), which then raise Cancelled. A console drops a search that the user has
    moved on from; on a big table the server would otherwise read on for seconds,
    for nobody. Once set, it stays set: a call given it later does not start."""

    def __init__(self):
        self._lock = threading.Lock()
        self._conns = []
        self.is_set = False

    def set(self):
        # blocks for a round trip to the server (a connection of its own carries the
        # request): call it off a UI thread. The lock keeps a covered connection from
        # going back to the pool, and on to another caller's statement, until the
        # request is sent; one that arrives between statements the server ignores.
        with self._lock:
            self.is_set = True
            for conn in self._conns:
                try:
                    conn.cancel_safe(timeout=5.0)
                except psycopg.Error:
                    pass    # its server is gone: so is its statement

    @contextmanager
    def covering(self, conn):
        with self._lock:
            if self.is_set:
                raise Cancelled("cancelled")
            self._conns.append(conn)
        try:
            yield conn
        except psycopg.errors.QueryCanceled:
            if self.is_set:
                raise Cancelled("cancelled") from None
            raise
        finally:
            with self._lock:
                self._conns.remove(conn)


@contextmanager
def pooled(dsn, cancel=None):
    """A connection from this process's pool for dsn (autocommit). `cancel`, a Cancel,
    lets another thread stop its statements.

    Library calls (schedule, a task's state) are short and frequent: a pool saves the
    connection set-up that would otherwise dominate them.
    """
    from psycopg_pool import PoolTimeout
    pool = _pool(dsn)
    try:
        conn = _live_connection(pool)
    except PoolTimeout:
        raise DatabaseUnavailable(f"cannot reach the database {describe(dsn)}") from None
    try:
        if cancel is None:
            yield conn
        else:
            with cancel.covering(conn):
                yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"lost the database {describe(dsn)}: {first_line(exc)}") from None
    finally:
        pool.putconn(conn)


def _live_connection(pool):
    """A pooled connection that the server has not closed meanwhile.

    A server restart closes every idle connection; the pool only learns it when one is
    used. Reading what the socket already holds (no round trip) tells us first, so a
    dead one is dropped rather than failing the caller's statement.
    """
    for _ in range(pool.max_size + 1):
        conn = pool.getconn(timeout=POOL_WAIT)
        try:
            # twice: the first read takes the server's farewell message, the second
            # meets the closed socket
            conn.pgconn.consume_input()
            conn.pgconn.consume_input()
            if conn.pgconn.status == pq.ConnStatus.OK:
                return conn
        except psycopg.OperationalError:
            pass
        conn.close()
        pool.putconn(conn)      # the pool replaces a closed connection
    return pool.getconn(timeout=POOL_WAIT)


def _pool(dsn):
    from psycopg_pool import ConnectionPool
    with _pools_lock:
        pool = _pools.get(dsn)
        if pool is None:
            connect(dsn).close()   # fail early, with a clear error, on a bad server or schema
            pool = ConnectionPool(dsn, min_size=0, max_size=4, open=True,
                                  kwargs={"autocommit": True}, name="jobconsole")
            _pools[dsn] = pool
        return pool


def close_pools():
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


# closed while the interpreter still works: a pool left to its finaliser at exit meets
# modules already torn down, and prints an ignored exception on the way out
atexit.register(close_pools)


def sql_list(values):
    """A parenthesised SQL list of these constant words, for statements that must name
    statuses literally: a partial index is used only where the query's condition
    restates its predicate, which a parameter cannot."""
    if not all(isinstance(v, str) and v.isidentifier() for v in values):
        raise ValueError(f"not a list of plain words: {values!r}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
