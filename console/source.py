"""The console's only door to the data: plain calls into `core`, made from Textual
thread workers (they block). No SQL here, and no widget either."""
from jobconsole import api, db, tasks


class Source:
    def __init__(self, dsn, owner=None):
        self.dsn = dsn
        self.owner = owner          # `jobconsole --owner alice`: only alice's tasks

    @property
    def name(self):
        return db.describe(self.dsn)

    def tasks(self, text=None, sort="id", descending=True, limit=500, newest=None):
        with db.pooled(self.dsn) as conn:
            return tasks.window(conn, text=text, owner=self.owner, sort=sort,
                                descending=descending, limit=limit, newest=newest)

    def task_id_span(self):
        with db.pooled(self.dsn) as conn:
            return tasks.id_span(conn)

    def counts(self):
        with db.pooled(self.dsn) as conn:
            return tasks.count_by_status(conn, owner=self.owner)

    def task(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.get(conn, tid)

    def dependencies(self, tid):
        with db.pooled(self.dsn) as conn:
            return tasks.dependencies(conn, tid)

    def workflow(self, name):
        return api.workflow(self.dsn, name)

    def logs(self, tid, after=0, limit=5000):
        with db.pooled(self.dsn) as conn:
            return tasks.logs(conn, tid, after=after, limit=limit)

    def workers(self, all=False):
        return api.list_workers(self.dsn, all=all)

    def monitors(self, all=False):
        return api.list_monitors(self.dsn, all=all)

    def operations(self):
        return api.list_operations(self.dsn)

    def schedules(self):
        return api.list_scheduled(self.dsn)

    # -- actions: the public API's own calls, as the CLI twins use them ------------------

    def abort(self, tid):
        return api.abort(self.dsn, tid)

    def relaunch(self, tid):
        return api.relaunch(self.dsn, tid).id

    def delete(self, tid):
        api.delete(self.dsn, tid)

    def kill_worker(self, wid):
        api.kill_worker(self.dsn, wid)

    def stop_monitor(self, mid):
        api.shutdown_monitor(self.dsn, mid)

    def run_schedule(self, sid):
        return api.run_schedule(self.dsn, sid).id

    def pause_schedule(self, sid):
        api.pause_schedule(self.dsn, sid)

    def resume_schedule(self, sid):
        api.resume_schedule(self.dsn, sid)

    def unprepare(self, sid):
        api.unprepare(self.dsn, sid)
