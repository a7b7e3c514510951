"""Registered operations: which host and domain can run what."""
from .. import columns
from .table_view import TableView


class OperationsView(TableView):
    TITLE = "Operations"
    FIELDS = columns.OPERATIONS
    WATCHES = frozenset({"operation"})

    def fetch(self):
        return [o for o in self.app.source.operations()
                if self.matches(o.name, o.domain, o.host, o.path)]

