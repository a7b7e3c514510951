"""Queues of payloads (rex.asynctask's transports): each queue's depth and the age of
its oldest payload. jobconsole's own pgsql queues are read from its tables and change
by notification; the others are what running daemons publish every two seconds."""
from .. import columns
from .table_view import TableView

POLL = 2.0      # seconds: ages grow, and a stopped daemon's queues leave, unannounced


class QueuesView(TableView):
    TITLE = "Queues"
    FIELDS = columns.QUEUES
    WATCHES = frozenset({"queue"})

    def on_mount(self):
        super().on_mount()
        self.set_interval(POLL, self._poll)

    def _poll(self):
        if self.is_current and not self.app.paused:
            self.reload()

    def fetch(self):
        return [q for q in self.app.source.queues()
                if self.matches(q.transport, q.name)]

    def key(self, row):
        return f"{row.transport} {row.name}"
