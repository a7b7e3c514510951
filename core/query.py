"""The query language of task filters, the same in the console's filter box,
`list-tasks --where` and `api.list_tasks(where=...)`:

    status:failed op:report owner:alice kind:timeout workflow:nightly age>1h dur>30s

Terms are separated by spaces and all must hold. `name:value` matches a column's value
(`status:failed,aborted`: any of them); `name>value`, `<`, `>=`, `<=` compare ages,
durations and numbers; any other word is free text, found anywhere in the id, status,
operation, domain, owner, workflow or category. `!` before a term negates it. A value
with spaces is quoted: `owner:"Ada L"`.

A query compiles to one SQL condition whose values are all parameters: no text of the
user's is ever part of the SQL. A malformed one raises QueryError, which says where.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import QueryError
from .records import ERROR_KINDS, TASK_STATUSES


# name -> (SQL expression, type of its values); the SQL is ours, never the user's
_MATCHED = {
    "status": ("status", "status"),
    "op": ("operation", "text"),
    "operation": ("operation", "text"),
    "owner": ("owner", "text"),
    "domain": ("domain", "text"),
    "kind": ("error_kind", "kind"),
    "workflow": ("workflow", "text"),
    "category": ("metadata->>'category'", "text"),
    "worker": ("worker_id", "int"),
    "id": ("id", "int"),
}
_COMPARED = {
    "age": ("queued", "since"),     # compared the other way round: queued < now() - 1h
    "dur": ("coalesce(finished, now()) - started", "interval"),
    "duration": ("coalesce(finished, now()) - started", "interval"),
    "id": ("id", "int"),
    "priority": ("priority", "int"),
    "attempt": ("attempt", "int"),
    "worker": ("worker_id", "int"),
}
# what free text is searched in
SEARCHED = ("(id::text || ' ' || status || ' ' || operation || ' ' || domain || ' ' "
            "|| coalesce(owner, '') || ' ' || coalesce(workflow, '') || ' ' "
            "|| coalesce(metadata->>'category', ''))")

_TERM = re.compile(r'''
    (?P<neg>!)?
    (?:(?P<name>[a-z_]+)(?P<op>:|>=|<=|>|<))?
    (?P<value>"(?:[^"\\]|\\.)*"?|[^\s"]+)
''', re.X)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|min|m|h|d|w)?")


@dataclass(frozen=True)
class Compiled:
    sql: str                    # a condition on jobconsole.task's columns
    params: dict[str, Any]      # its values, by name (psycopg's %(name)s)


def compile(text: str | None, prefix: str = "q") -> Compiled | None:
    """The condition the query `text` stands for, or None for an empty query. Its
    parameters are named `<prefix>0`, `<prefix>1`, ..."""
    if text is None or not text.strip():
        return None
    clauses: list[str] = []
    params: dict[str, Any] = {}

    def param(value: Any) -> str:
        name = f"{prefix}{len(params)}"
        params[name] = value
        return f"%({name})s"

    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        match = _TERM.match(text, pos)
        if match is None:
            raise QueryError(f"cannot read {text[pos:pos + 20]!r}", pos)
        start, pos = pos, match.end()
        if pos < len(text) and not text[pos].isspace():
            raise QueryError(f"a term must end before {text[pos]!r}", pos)
        value = _unquote(match.group("value"), match.start("value"))
        name, op = match.group("name"), match.group("op")
        bare = re.fullmatch(r"([a-z_]+)(:|>=|<=|>|<)", value) if name is None else None
        if bare:
            raise QueryError(f"{bare.group(1)}{bare.group(2)} needs a value", start)
        if name is None and value == "!":
            continue     # a negation of nothing, as typed on the way to a term
        if name is None:
            clause = f"{SEARCHED} ilike {param(pattern(value))}"
        elif op == ":":
            clause = _matched(name, value, start, param)
        else:
            clause = _compared(name, op, value, start, match.start("value"), param)
        # a term on a null column is false, and so is its negation's test: `!kind:timeout`
        # keeps the tasks without an error kind. A term that holds is left bare, so that
        # the planner can match it to an index.
        clauses.append(f"({clause}) is not true" if match.group("neg") else clause)
    if not clauses:
        return None
    return Compiled(" and ".join(clauses), params)


def _unquote(value: str, position: int) -> str:
    if not value.startswith('"'):
        return value
    if len(value) < 2 or not value.endswith('"') or value.endswith('\\"') \
            and not value.endswith('\\\\"'):
        raise QueryError("a quote is not closed", position)
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def pattern(needle: str) -> str:
    """An ILIKE pattern finding `needle` as written: its wildcards are escaped."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matched(name: str, value: str, start: int, param: Any) -> str:
    if name not in _MATCHED:
        raise QueryError(f"unknown qualifier {name!r}: one of "
                         f"{', '.join(sorted(_MATCHED))}, or a comparison on "
                         f"{', '.join(sorted(_COMPARED))}", start)
    column, kind = _MATCHED[name]
    values = [v for v in value.split(",") if v != ""]
    if not values:
        raise QueryError(f"{name}: needs a value", start)
    if kind == "status":
        unknown = [v for v in values if v not in TASK_STATUSES]
        if unknown:
            raise QueryError(f"unknown status {unknown[0]!r} (one of "
                             f"{', '.join(TASK_STATUSES)})", start)
    elif kind == "kind":
        unknown = [v for v in values if v not in ERROR_KINDS]
        if unknown:
            raise QueryError(f"unknown error kind {unknown[0]!r} (one of "
                             f"{', '.join(ERROR_KINDS)})", start)
    elif kind == "int":
        return f"{column} = any({param([_whole(name, v, start) for v in values])}::bigint[])"
    if len(values) == 1:
        return f"{column} = {param(values[0])}"
    return f"{column} = any({param(values)}::text[])"


def _compared(name: str, op: str, value: str, start: int, at: int, param: Any) -> str:
    if name not in _COMPARED:
        raise QueryError(f"cannot compare {name!r} with {op}: compare one of "
                         f"{', '.join(sorted(_COMPARED))}", start)
    column, kind = _COMPARED[name]
    if kind == "int":
        return f"{column} {op} {param(_whole(name, value, at))}"
    match = _DURATION.fullmatch(value)
    if match is None:
        raise QueryError(f"{name}: {value!r} is not a duration such as 30s, 5m, 2h or 1d", at)
    seconds = float(match.group(1)) * _SECONDS[match.group(2) or "s"]
    if kind == "since":
        # age > 1h: queued before an hour ago; a column alone on one side, as an index needs
        flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
        return f"{column} {flipped} now() - make_interval(secs => {param(seconds)}::float8)"
    return f"{column} {op} make_interval(secs => {param(seconds)}::float8)"


def _whole(name: str, value: str, at: int) -> int:
    if not re.fullmatch(r"-?\d{1,18}", value):
        raise QueryError(f"{name}: {value!r} is not a whole number", at)
    return int(value)
