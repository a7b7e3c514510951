"""The supervision clock: how often processes beat, when silence means death, how long
a killed worker gets before SIGKILL. Environment variables override the defaults, which
is how the tests run a whole crash-and-recover cycle in a second or two.
"""
import os
from dataclasses import dataclass


def _env(name, default):
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Timing:
    heartbeat: float = 2.0     # seconds between heartbeats
    stale: float = 30.0        # a monitor silent this long is dead
    kill_grace: float = 3.0    # SIGTERM, then SIGKILL after this many seconds
    poll: float = 5.0          # safety-net poll when no notification arrives
    log_flush: float = 0.2     # a running task's log lines reach the database this often
    schedule_grace: float = 60.0   # a fire time not fired this late is missed

    @classmethod
    def from_env(cls):
        d = cls()
        return cls(
            heartbeat=_env("JOBCONSOLE_HEARTBEAT", d.heartbeat),
            stale=_env("JOBCONSOLE_STALE", d.stale),
            kill_grace=_env("JOBCONSOLE_KILL_GRACE", d.kill_grace),
            poll=_env("JOBCONSOLE_POLL", d.poll),
            log_flush=_env("JOBCONSOLE_LOG_FLUSH", d.log_flush),
            schedule_grace=_env("JOBCONSOLE_SCHEDULE_GRACE", d.schedule_grace),
        )
