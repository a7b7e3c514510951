"""rex.asynctask workers, as its documents write them, with only the import changed."""
import json
import os
import time

from jobconsole.compat.asynctask import AsyncTaskWorker


class MyWorker(AsyncTaskWorker):
    name = 'my_worker'

    def process(self, payload):
        # Do whatever you want with the payload here.
        print(('Received payload with foo=%s' % (payload['foo'],)))


class JournalWorker(AsyncTaskWorker):
    """Appends each payload it processes, and when, to the file the payload names: what
    ran is known outside the database. A payload with "sleep" takes that long first."""
    name = 'journal_worker'

    def process(self, payload):
        self.logger.info("processing %s", payload.get("n"))
        time.sleep(payload.get("sleep", 0))
        with open(payload["journal"], "a") as f:
            f.write(json.dumps({"n": payload.get("n"), "pid": os.getpid(),
                                "at": time.time()}) + "\n")


class Failing(AsyncTaskWorker):
    name = 'failing_worker'

    def process(self, payload):
        raise ValueError(f"cannot process {payload!r}")


class Ticker(AsyncTaskWorker):
    """A scheduled worker: rex.asynctask calls it with no payload."""
    name = 'ticker'

    def process(self, payload):
        with open(os.environ["TICKER_JOURNAL"], "a") as f:
            f.write(f"{time.time()}\n")
