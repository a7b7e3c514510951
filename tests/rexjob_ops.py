"""rex.job executors, as its documents write them, with only the import changed."""
import json
import time

from jobconsole.compat.rexjob import JobExecutor


class MyJobExecutor(JobExecutor):
    name = 'my_job'

    def execute(self, code, owner, payload):
        # Perform your work here.
        self.logger.info('My Job did something!')


class FacetJob(JobExecutor):
    """Stores its progress in two steps, as a facet that grows."""
    name = 'facet_job'

    def execute(self, code, owner, payload):
        self.update_facet('my_job', code, num_records=1234)
        self.update_facet('my_job', code, status_note='halfway')
        self.update_facet('audit', code, checked_by=owner)


class EchoJob(JobExecutor):
    """Prints what it was given, for the test to read in its log."""
    name = 'echo_job'

    def execute(self, code, owner, payload):
        print(json.dumps({"code": code, "owner": owner, "payload": payload}))


class SlowJob(JobExecutor):
    name = 'slow_job'

    def execute(self, code, owner, payload):
        time.sleep(payload.get("sleep", 30))


class FailingJob(JobExecutor):
    name = 'failing_job'

    def execute(self, code, owner, payload):
        raise RuntimeError(f"job {code} cannot do {payload!r}")


class Meddler(JobExecutor):
    """Tries to write another job's facet."""
    name = 'meddler_job'

    def execute(self, code, owner, payload):
        self.update_facet('my_job', payload["other"], num_records=0)
