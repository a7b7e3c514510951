"""The console's only door to the data: calls of the public api, made from Textual
thread workers (they block). No SQL here, and no widget either."""
from jobconsole import api


class Source:
    def __init__(self, dsn, owner=None):
        self.dsn = dsn
        self.owner = owner          # `jobconsole --owner alice`: only alice's tasks

    @property
    def name(self):
        return api.describe_dsn(self.dsn)

    def tasks(self, where=None, sort="id", descending=True, limit=500, newest=None,
              cancel=None):
        return api.list_tasks(self.dsn, where=where, owner=self.owner, sort=sort,
                              descending=descending, limit=limit, newest=newest,
                              cancel=cancel)

    def task_ids(self, where):
        """The ids a query matches now: what a bulk action will act on."""
        return api.task_ids(self.dsn, where, owner=self.owner)

    def stats(self):
        return api.stats(self.dsn)

    def task_id_span(self):
        return api.task_id_span(self.dsn)

    def counts(self):
        return api.count_tasks(self.dsn, owner=self.owner)

    def task(self, tid):
        # re-read at every change of any task: a summary, whatever its values weigh
        return api.task_summary(self.dsn, tid)

    def task_source(self, tid):
        return api.task_source(self.dsn, tid)

    def tethys_status(self, tid):
        from jobconsole.compat import tethys
        return tethys.job_status(self.dsn, tid)

    def dependencies(self, tid):
        return api.Task(self.dsn, tid).dependencies()

    def attempts(self, tid):
        return api.Task(self.dsn, tid).attempts()

    def workflow(self, name):
        return api.workflow(self.dsn, name)

    def logs(self, tid, after=0, limit=5000):
        return api.Task(self.dsn, tid).logs(fromid=after, limit=limit)

    def workers(self, all=False):
        return api.list_workers(self.dsn, all=all)

    def monitors(self, all=False):
        return api.list_monitors(self.dsn, all=all)

    def operations(self):
        return api.list_operations(self.dsn)

    def schedules(self):
        return api.list_scheduled(self.dsn)

    def queues(self):
        return api.list_queues(self.dsn)

    # -- actions: the public API's own calls, as the CLI twins use them ------------------

    def abort(self, tid):
        return api.abort(self.dsn, tid)

    def relaunch(self, tid):
        return api.relaunch(self.dsn, tid).id

    def delete(self, tid):
        api.delete(self.dsn, tid)

    def kill_worker(self, wid):
        api.kill_worker(self.dsn, wid)

    def shutdown_worker(self, wid):
        api.shutdown_worker(self.dsn, wid)

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
