"""The console's only door to the data: plain calls into `core`, made from Textual
thread workers (they block). No SQL here, and no widget either."""
from core import db, operations, processes, tasks
from core.task import Task


class Source:
    def __init__(self, dsn, owner=None):
        self.dsn = dsn
        self.owner = owner          # `jobconsole --owner alice`: only alice's tasks

    @property
    def name(self):
        return db.describe(self.dsn)

    def tasks(self, text=None, sort="id", descending=True, limit=500):
        with db.pooled(self.dsn) as conn:
            return tasks.window(conn, text=text, owner=self.owner, sort=sort,
                                descending=descending, limit=limit)

    def counts(self):
        with db.pooled(self.dsn) as conn:
            return tasks.count_by_status(conn, owner=self.owner)

    def task(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.get(conn, tid)

    def dependencies(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.dependencies(conn, tid)

    def logs(self, tid, after=0, limit=5000):
        with db.pooled(self.dsn) as conn:
            return tasks.logs(conn, tid, after=after, limit=limit)

    def workers(self, all=False):
        with db.pooled(self.dsn) as conn:
            return processes.list_workers(conn, all=all)

    def monitors(self, all=False):
        with db.pooled(self.dsn) as conn:
            return processes.list_monitors(conn, all=all)

    def operations(self):
        return operations.list_operations(self.dsn)

    # -- actions ------------------------------------------------------------------------

    def abort(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.abort(conn, tid)

    def relaunch(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.relaunch(conn, tid)

    def delete(self, tid):
        with db.pooled(self.dsn) as conn:
            tasks.delete(conn, tid)

    def kill_worker(self, wid):
        with db.pooled(self.dsn) as conn:
            processes.kill_worker(conn, wid)

    def stop_monitor(self, mid):
        with db.pooled(self.dsn) as conn:
            processes.shutdown_monitor(conn, mid)

    def handle(self, tid):
        return Task(self.dsn, tid)
