"""Other engines that run jobconsole tasks: Slurm (and Dask), for Tethys' job types.

Such a task is never claimed by a worker: it waits in the engine's own domain ('slurm'),
which no monitor may serve with workers. Every monitor on a host that can drive the
engine runs a tracker (tracker.py), and the one that holds the engine's lock submits
the engine's queued tasks, follows them with one call per poll, streams their output
into their logs, carries out aborts and records how they ended. No process of
jobconsole is held while the engine runs a job, and when the tracking monitor dies,
another one takes the lock and goes on where it stopped.
"""
ENGINES = ("slurm",)
