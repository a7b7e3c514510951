"""The jobconsole schema: versioned migrations, and the check every entry point makes.

Migrations are the numbered SQL files in `migrations/`; the schema's version is the
number of the last one applied. `schema.sql` is the schema as the last one leaves it,
written whole, and declares that version on its first line. `init_db` builds a new
database from schema.sql and brings an older one up to date with the migrations it
lacks, in one transaction under an advisory lock, so two processes initialising at
once do not collide.
"""
import re
from importlib import resources

import psycopg

from .errors import SchemaError

SCHEMA = "jobconsole"
_LOCK_KEY = 0x6A6F62  # pg_advisory_xact_lock key: any constant unique to jobconsole


def migrations():
    """[(version, sql)] in order."""
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


LATEST = migrations()[-1][0]


def schema_sql():
    """schema.sql, checked to declare the version LATEST on its first line."""
    text = resources.files(__package__).joinpath("schema.sql").read_text()
    first = text.partition("\n")[0]
    declared = re.fullmatch(r"-- jobconsole schema, version (\d+)", first)
    if declared is None or int(declared[1]) != LATEST:
        # a developer's mistake, which tests/test_schema.py catches before any user can
        raise RuntimeError(
            f"schema.sql begins {first!r}, but the last migration is {LATEST}: schema.sql "
            f"must be the schema that migration leaves, and begin "
            f"'-- jobconsole schema, version {LATEST}'")
    return text


def current_version(conn):
    """The schema version in this database, or None if it has no jobconsole schema."""
    exists = conn.execute(
        "select 1 from pg_namespace where nspname = %s", (SCHEMA,)).fetchone()
    if not exists:
        return None
    row = conn.execute(f"select max(version) from {SCHEMA}.version").fetchone()
    return row[0]


def init_db(conn):
    """Create or upgrade the schema; returns (version before, version after).

    A database with no version recorded (before 0) gets schema.sql; an older one the
    migrations it lacks, one by one, each recorded in the version table.
    """
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(f"create schema if not exists {SCHEMA}")
        conn.execute(f"create table if not exists {SCHEMA}.version "
                     "(version integer primary key, applied timestamptz not null default now())")
        before = conn.execute(f"select coalesce(max(version), 0) from {SCHEMA}.version").fetchone()[0]
        if before > LATEST:
            raise SchemaError(_newer(before))
        if before == 0:
            steps = [(LATEST, schema_sql())]
        else:
            steps = [(version, sql) for version, sql in migrations() if version > before]
        for version, sql in steps:
            conn.execute(sql)
            conn.execute(f"insert into {SCHEMA}.version (version) values (%s)", (version,))
    return before, LATEST


def check(conn):
    """Raise SchemaError unless the schema is exactly the one this code expects."""
    try:
        version = current_version(conn)
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        version = None
    if version is None:
        raise SchemaError("this database has no jobconsole schema: run `jobconsole init-db`")
    if version < LATEST:
        raise SchemaError(f"the jobconsole schema is at version {version}, this jobconsole needs "
                          f"{LATEST}: run `jobconsole init-db` to upgrade it")
    if version > LATEST:
        raise SchemaError(_newer(version))


def _newer(version):
    return (f"the jobconsole schema is at version {version}, newer than this jobconsole "
            f"knows ({LATEST}): upgrade jobconsole")
