"""Workflows: the aggregate status of a named group of tasks.

A task joins a workflow when it is scheduled (`workflow=`); the workflow is its tasks,
nothing more, so it needs no table of its own and cannot disagree with them.
"""
from .errors import NotFound
from .records import WorkflowInfo


def get(conn, name):
    rows = conn.execute(
        "select status, count(*) from jobconsole.task where workflow = %s group by status",
        (name,)).fetchall()
    if not rows:
        raise NotFound(f"no task in workflow {name!r}")
    return WorkflowInfo(name, dict(rows))
