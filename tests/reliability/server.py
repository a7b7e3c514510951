"""A PostgreSQL of the test's own, which the test may restart, crash or starve.

Never the machine's shared server: these tests stop and kill theirs. It is the embedded
server in a temporary home, driven with its own pg_ctl, as an operator would drive it.
"""
import os
import signal
import uuid

import psycopg
from psycopg import conninfo, sql

from jobconsole import api, db, embedded


class Server:
    def __init__(self, home):
        self.home = home
        # the embedded module's own places: where its pg_ctl, data directory and log are
        self._paths = embedded._Paths(home)
        self.admin_dsn = embedded.ensure_running(home)

    def database(self):
        """A new database with the schema; returns its DSN."""
        name = f"reliability_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        dsn = conninfo.make_conninfo(self.admin_dsn, dbname=name)
        api.init_db(dsn)
        db.close_pools()
        return dsn

    def user(self, dsn, name):
        """A login role that may use jobconsole's schema in `dsn`'s database, and is no
        superuser: the slots the server reserves for superusers stay the test's own.
        Returns a DSN of that database as that role."""
        with psycopg.connect(dsn, autocommit=True) as admin:
            role = sql.Identifier(name)
            admin.execute(sql.SQL("create role {} login").format(role))
            admin.execute(sql.SQL("grant usage on schema jobconsole to {}").format(role))
            for kind in ("tables", "sequences", "functions"):
                admin.execute(sql.SQL("grant all on all {} in schema jobconsole to {}").format(
                    sql.SQL(kind), role))
        return conninfo.make_conninfo(dsn, user=name)

    def configure(self, **settings):
        """ALTER SYSTEM each setting, then restart so that all of them apply."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            for key, value in settings.items():
                admin.execute(sql.SQL("alter system set {} = {}").format(
                    sql.Identifier(key), sql.Literal(str(value))))
        self.restart("fast")

    def listen(self, address, network):
        """Accept TCP connections on `address` from `network` too; returns a DSN of the
        database `dsn` names, over TCP."""
        with open(self._paths.pgdata / "pg_hba.conf", "a") as f:
            f.write(f"\nhost all all {network} trust\n")
        self.configure(listen_addresses=address)

    def pg_ctl(self, *args):
        rc, out = embedded._run(self._paths, "pg_ctl", *args, "-D", str(self._paths.pgdata),
                                "-w", "-t", "60")
        assert rc == 0, f"pg_ctl {args[0]} failed: {out}"

    def restart(self, mode):
        self.pg_ctl("restart", "-m", mode, "-l", str(self._paths.log))

    def stop(self, mode):
        self.pg_ctl("stop", "-m", mode)

    def kill(self):
        """SIGKILL the postmaster, as the OOM killer would."""
        os.kill(self.postmaster(), signal.SIGKILL)

    def start(self):
        embedded.ensure_running(self.home)

    def postmaster(self):
        pid = embedded._postmaster(self._paths)
        assert pid is not None, "the test's server is not running"
        return pid

    def close(self):
        db.close_pools()
        embedded.stop(self.home)
