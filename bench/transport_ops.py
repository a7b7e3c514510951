"""The no-op asynctask worker bench/transports.py runs: each payload becomes a task
whose worker does nothing, so what is timed is the transport, intake and the engine."""
from jobconsole.compat.asynctask import AsyncTaskWorker


class BenchNoop(AsyncTaskWorker):
    name = "bench_noop"

    def process(self, payload):
        pass
