"""Transports: queues of payloads outside jobconsole's task table (rex.asynctask's), read
by intake loops that turn each payload into a task (docs/architecture.md).

`get_transport(uri)` takes rex.asynctask's URIs:

    pgsql:DBNAME                         that database on jobconsole's own server
    pgsql://[user[:password]@]host[:port]/db, postgresql://..., a libpq DSN
    filesys:/path/to/dir
    redis://host[:port][?db=N]
    amqp://user:password@host:port/vhost
"""
from __future__ import annotations

import os

from psycopg import conninfo

from .. import checks, db
from ..errors import BadInput, DatabaseUnavailable
from .base import Claim, QueueStats, Transport, check_queue

__all__ = ["get_transport", "Transport", "Claim", "QueueStats", "check_queue", "ENV_TRANSPORT"]

ENV_TRANSPORT = "JOBCONSOLE_TRANSPORT"
SCHEMES = "pgsql:, postgresql://, a libpq DSN, filesys:, redis:// or amqp://"


def get_transport(uri: str | None = None, dsn: str | None = None) -> Transport:
    """The transport `uri` names; with none, $JOBCONSOLE_TRANSPORT, else the pgsql
    transport on jobconsole's own database (`dsn`, resolved as usual). The server is
    reached once here, so that a wrong URI fails at once, in one line."""
    uri = uri or os.environ.get(ENV_TRANSPORT) or None
    if uri is None:
        return _pgsql("pgsql:", db.resolve(checks.dsn(dsn)))
    if not isinstance(uri, str) or not uri.strip():
        raise BadInput(f"a transport URI must be text, got {uri!r:.60}")
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme == "pgsql" and not rest.startswith("//"):
        if not rest:
            return _pgsql(uri, db.resolve(checks.dsn(dsn)))
        return _pgsql(uri, conninfo.make_conninfo(db.resolve(checks.dsn(dsn)), dbname=rest))
    if scheme == "pgsql":
        return _pgsql(uri, "postgresql:" + rest)
    if scheme in ("postgresql", "postgres") or (not colon and "=" in uri):
        return _pgsql(uri, uri)
    if scheme == "filesys":
        from .filesys import FilesysTransport
        path = rest[2:] if rest.startswith("//") else rest
        if not path:
            raise BadInput(f"{uri}: a filesys transport needs a directory (filesys:/path)")
        return FilesysTransport(uri, path)
    if scheme == "redis":
        from .redis_lists import RedisTransport
        return RedisTransport(uri)
    if scheme == "amqp":
        from .amqp_queues import AmqpTransport
        return AmqpTransport(uri)
    raise BadInput(f"unknown transport {uri!r:.80}: use {SCHEMES}")


def _pgsql(uri: str, dsn: str) -> Transport:
    from .pgsql import PgsqlTransport
    try:
        db.validate(dsn)
    except DatabaseUnavailable:
        raise BadInput(f"{uri}: not a PostgreSQL URI or DSN") from None
    try:
        db.connect(dsn).close()
    except DatabaseUnavailable as exc:
        if uri == "pgsql:":     # jobconsole's own database: its usual error
            raise
        raise BadInput(f"transport {uri}: {exc}") from None
    return PgsqlTransport(uri, dsn)
