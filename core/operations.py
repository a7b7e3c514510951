"""Operations in the database: which host and domain can run what, imported from where."""
from dataclasses import fields

from . import db, registry
from .errors import BadInput, NotFound
from .hosts import this_host
from .records import OperationInfo


def register_operations(dsn, path, *, domain=None, host=None):
    """Import `path` (a .py file or a module) and record its operations for `host`.

    With `domain`, only the operations of that domain are recorded. Returns the
    OperationInfo rows written. Registering again updates them in place.
    """
    module = registry.load(path)
    ops = [op for op in registry.declared_in(module) if domain is None or op.domain == domain]
    if not ops:
        where = f" in domain {domain!r}" if domain else ""
        raise BadInput(f"{path} declares no operation{where} (decorate functions with @api.task)")
    source = registry.source_of(module)
    host = host or this_host()
    with db.pooled(db.resolve(dsn)) as conn, conn.transaction():
        rows = [conn.execute(
            "insert into jobconsole.operation (name, domain, host, path, timeout, retries, "
            "backoff, retry_on) values (%s, %s, %s, %s, %s, %s, %s, %s) "
            "on conflict (name, domain, host) do update set path = excluded.path, "
            "timeout = excluded.timeout, retries = excluded.retries, "
            "backoff = excluded.backoff, retry_on = excluded.retry_on, registered = now() "
            f"returning {_COLUMNS}",
            (op.name, op.domain, host, source, op.timeout, op.retries, op.backoff,
             list(op.retry_on))).fetchone()
            for op in ops]
        # idle workers of these domains load the new operations without a restart
        for d in {op.domain for op in ops}:
            conn.execute("select pg_notify('jobconsole_operations', %s)", (d,))
    return [OperationInfo(*row) for row in rows]


def unregister_operation(dsn, name, *, domain=None, host=None):
    """Remove an operation (from every host and domain unless narrowed); returns how many."""
    with db.pooled(db.resolve(dsn)) as conn:
        cur = conn.execute(
            "delete from jobconsole.operation where name = %s "
            "and (%s::text is null or domain = %s) and (%s::text is null or host = %s)",
            (name, domain, domain, host, host))
    if not cur.rowcount:
        raise NotFound(f"no operation {name!r} is registered" + _narrowed(domain, host))
    return cur.rowcount


def list_operations(dsn, *, domain=None, host=None):
    with db.pooled(db.resolve(dsn)) as conn:
        rows = conn.execute(
            f"select {_COLUMNS} from jobconsole.operation "
            "where (%s::text is null or domain = %s) and (%s::text is null or host = %s) "
            "order by domain, name, host", (domain, domain, host, host)).fetchall()
    return [OperationInfo(*row) for row in rows]


def resolve_operation(conn, name, domain=None, host=None):
    """(domain, timeout, retries) of the operation a new task will run, or a clear error."""
    rows = conn.execute(
        "select distinct domain, timeout, retries from jobconsole.operation where name = %s "
        "and (%s::text is null or domain = %s) and (%s::text is null or host = %s)",
        (name, domain, domain, host, host)).fetchall()
    if not rows:
        known = [r[0] for r in conn.execute(
            "select distinct name from jobconsole.operation order by 1 limit 20")]
        hint = f" (registered: {', '.join(known)})" if known else " (none is registered yet)"
        raise NotFound(f"unknown operation {name!r}{_narrowed(domain, host)}{hint}")
    if len({r[0] for r in rows}) > 1:
        raise BadInput(f"operation {name!r} exists in several domains "
                       f"({', '.join(sorted({r[0] for r in rows}))}): say which with domain=")
    return rows[0]


def _narrowed(domain, host):
    parts = [f"domain {domain!r}" if domain else "", f"host {host!r}" if host else ""]
    parts = [p for p in parts if p]
    return f" in {' and '.join(parts)}" if parts else ""


_COLUMNS = ", ".join(f.name for f in fields(OperationInfo))
