"""The schema two ways: schema.sql for a new database, the migrations for an older one.

Both must give the same schema, compared as pg_dump prints it. A database an older
jobconsole made is rebuilt here as that jobconsole's init_db made it: the version
table, then its migrations one by one; init_db then upgrades it as it would a user's.
"""
import difflib
import re
import subprocess
import uuid

import psycopg
import pytest
from psycopg import conninfo, sql

from jobconsole import embedded, schema
from jobconsole.schema import LATEST, migrations


def test_schema_sql_declares_the_latest_version():
    assert schema.schema_sql().startswith(f"-- jobconsole schema, version {LATEST}\n")


def test_a_migration_that_schema_sql_does_not_declare_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(schema, "LATEST", LATEST + 1)    # as if a new migration were added
    with pytest.raises(RuntimeError, match=f"the last migration is {LATEST + 1}"):
        schema.schema_sql()


def test_migration_numbers_are_unique_and_may_skip():
    # Branches take their numbers ahead of merging, so a number may be missing for a
    # while; two files with one number would both apply, in an order no one chose.
    numbers = [version for version, _ in migrations()]
    assert len(numbers) == len(set(numbers)), numbers
    assert numbers[0] == 1 and numbers[-1] == LATEST


@pytest.fixture(scope="module")
def new_database(server_dsn):
    """new_database() -> the dsn of an empty database; all are dropped after the module."""
    names = []
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        def make():
            name = f"jobconsole_schema_{uuid.uuid4().hex[:10]}"
            admin.execute(sql.SQL("create database {} template template0").format(
                sql.Identifier(name)))
            names.append(name)
            return conninfo.make_conninfo(server_dsn, dbname=name)

        yield make
        for name in names:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def fresh(new_database):
    """The dump of a database that init_db created from schema.sql."""
    dsn = new_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert schema.init_db(conn) == (0, LATEST)
        assert recorded(conn) == [LATEST]
    text = dump(dsn)
    assert "CREATE TABLE jobconsole.task (" in text     # a dump of something, at least
    return text


@pytest.mark.parametrize("old", [1, 5])
def test_an_older_schema_upgraded_by_the_migrations_is_the_one_schema_sql_makes(
        new_database, fresh, old):
    dsn = new_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        made_by_version(conn, old)
        assert schema.init_db(conn) == (old, LATEST)
        assert recorded(conn) == [version for version, _ in migrations()]
    migrated = dump(dsn)
    if migrated != fresh:
        pytest.fail(f"schema.sql and the migrations from version {old} differ:\n" + "".join(
            difflib.unified_diff(fresh.splitlines(True), migrated.splitlines(True),
                                 "schema.sql", f"migrations from version {old}")),
            pytrace=False)


def made_by_version(conn, version):
    """The schema as the init_db of jobconsole `version` left it: the version table
    (the same since version 1), then migrations 1 to `version`, each recorded."""
    with conn.transaction():
        conn.execute("create schema jobconsole")
        conn.execute("create table jobconsole.version "
                     "(version integer primary key, applied timestamptz not null default now())")
        for number, text in [m for m in migrations() if m[0] <= version]:
            conn.execute(text)
            conn.execute("insert into jobconsole.version (version) values (%s)", (number,))


def recorded(conn):
    return [v for v, in conn.execute("select version from jobconsole.version order by 1")]


# Some server builds (the PostgreSQL 15 of this project's shared test server is one)
# stamp every column with an attribute option, pg_attver, whose value depends on the
# moment the column was made: it differs between any two databases, whatever their
# schema, so that line alone is left out. Any other option on a column still counts.
_COLUMN_STAMP = re.compile(
    r"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);\n", re.MULTILINE)


def dump(dsn):
    """pg_dump's text of the schema: the embedded wheel's, newer than any server we use.
    A fixed restrict key, or each dump would carry a random one."""
    done = subprocess.run(
        [embedded._bindir() / "pg_dump", "--schema-only", "--schema=jobconsole", "--no-owner",
         "--restrict-key=jobconsole", "--dbname", dsn],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return _COLUMN_STAMP.sub("", done.stdout)


def test_the_task_table_is_vacuumed_long_before_a_fifth_of_it_is_dead(fresh):
    # a table that keeps its history would otherwise wait longer and longer between
    # vacuums, and the claim would walk ever more dead entries of its index meanwhile
    # (migration 015, bench/soak.py)
    table = fresh[fresh.index("CREATE TABLE jobconsole.task ("):]
    options = table[:table.index(";")]
    assert "autovacuum_vacuum_scale_factor='0.02'" in options
    assert "autovacuum_vacuum_threshold='20000'" in options
