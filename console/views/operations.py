"""Registered operations: which host and domain can run what."""
from .. import cells
from .table_view import TableView


class OperationsView(TableView):
    TITLE = "Operations"
    COLUMNS = [("id", "ID"), ("name", "NAME"), ("domain", "DOMAIN"), ("host", "HOST"),
               ("timeout", "TIMEOUT"), ("retries", "RETRIES"), ("path", "PATH")]
    WATCHES = frozenset({"operation"})

    def fetch(self):
        return [o for o in self.app.source.operations()
                if self.matches(o.name, o.domain, o.host, o.path)]

    def cells(self, o):
        return [cells.cell(o.id), cells.cell(o.name, "bold"), cells.cell(o.domain),
                cells.cell(o.host), cells.cell(f"{o.timeout:g} s" if o.timeout else ""),
                cells.cell(o.retries), cells.cell(o.path, "dim")]

