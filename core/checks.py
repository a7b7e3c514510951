"""Checks of the arguments the public api is given, made at its door (api.py).

Each check returns the value as the database will take it, or raises BadInput with one
line naming the argument and saying what was expected. Without them a malformed call
reaches SQL, where psycopg reports it as an error of its own ("operator does not exist:
text = smallint"), or worse, where PostgreSQL stores it (an int owner becomes text).
"""
import math
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from .errors import BadInput

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The largest values of PostgreSQL's integer and bigint columns: ids of schedules,
# workers and monitors are serial, task ids bigserial.
INT4 = 2**31 - 1
INT8 = 2**63 - 1


def shown(value: Any, width: int = 60) -> str:
    """A value's repr, cut short: a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _whole(value: Any) -> TypeGuard[int]:
    # bool is an int to Python; True as an id or a count is always a mistake
    return isinstance(value, int) and not isinstance(value, bool)


def count(name: str, value: Any, low: int, high: int) -> int:
    """A whole number from `low` to `high`."""
    if not _whole(value) or not low <= value <= high:
        raise BadInput(f"{name} must be a whole number from {low:,} to {high:,}, "
                       f"got {shown(value)}")
    return value


def optional_count(name: str, value: Any, low: int, high: int) -> int | None:
    return None if value is None else count(name, value, low, high)


def row_id(kind: str, value: Any) -> int:
    """The id of a schedule, worker or monitor (a serial column)."""
    return count(f"{kind} id", value, 1, INT4)


def task_id(value: Any) -> int:
    return count("task id", value, 1, INT8)


def task_ref(name: str, value: Any) -> int:
    """A task given as a Task handle (or any record with an id) or as its id."""
    tid = value if _whole(value) else getattr(value, "id", None)
    if not _whole(tid) or not 1 <= tid <= INT8:
        raise BadInput(f"{name} must hold Tasks or task ids (whole numbers from 1), "
                       f"got {shown(value)}")
    return tid


def task_refs(name: str, values: Any) -> list[int]:
    return [task_ref(name, v) for v in iterable(name, values, "Tasks or task ids")]


def number(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """A number from `low` (excluded if `low_open`) to `high` (infinite only if `high` is)."""
    # isnan only of a float: an int too large for one would raise OverflowError
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (isinstance(value, float) and math.isnan(value)) or not (low < value if low_open else low <= value) or value > high:
        least = f"more than {low:g}" if low_open else f"from {low:g}"
        raise BadInput(f"{name} must be a number {least} and at most {high:g}, "
                       f"got {shown(value)}")
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be True or False, got {shown(value)}")
    return value


def text(name: str, value: Any) -> str:
    """Non-empty text: an operation, a rule, a workflow's name."""
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} must be a non-empty str, got {shown(value)}")
    return _storable(name, value)


def label(name: str, value: Any, allow_empty: bool = False) -> str:
    """A name that goes into a command line or a tmux target: letters, digits, `_`
    and `-` (tmux reads `.` and `:` in a target), at most 64 of them."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value) and (value or not allow_empty):
        raise BadInput(f"{name} must be at most 64 letters, digits, '_' or '-', "
                       f"got {shown(value)}")
    return value


def optional_text(name: str, value: Any) -> str | None:
    """None, or text a text column can store (an owner, a domain, a filter)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a str or None, got {shown(value)}")
    return _storable(name, value)


def _storable(name: str, value: str) -> str:
    if "\x00" in value:
        raise BadInput(f"{name} contains a NUL character, which PostgreSQL cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{name} is not valid text (undecodable bytes from a file name?): "
                       f"{shown(value)}") from None
    return value


def one_of(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise BadInput(f"{name} must be one of {', '.join(choices)}, got {shown(value)}")
    return value


def json_object(name: str, value: Any) -> dict | None:
    """None or a dict: what a JSON object is to Python (its values are checked when
    it is turned into JSON)."""
    if value is not None and not isinstance(value, dict):
        raise BadInput(f"{name} must be a JSON object (a dict) or None, got {shown(value)}")
    return value


def iterable(name: str, value: Any, of: str) -> list:
    """The items of a collection, as a list. A str, bytes or a dict is iterable too,
    but never meant as a collection here: "abc" would be three items, a dict its keys."""
    if isinstance(value, (str, bytes, bytearray, memoryview, Mapping)) \
            or not isinstance(value, Iterable):
        raise BadInput(f"{name} must be a list (or another iterable) of {of}, "
                       f"got {shown(value)}")
    return list(value)


def dsn(value: Any) -> str | None:
    """A libpq DSN or URI as text, or None (or '') for the usual resolution. rework's
    users pass a SQLAlchemy engine or URL too: its URL is taken, password and all. Whether
    it parses is db.validate's business (DatabaseUnavailable, as for a server down)."""
    if value is None or value == "":
        return value
    if not isinstance(value, str):
        value = _url_of(value)
    return _storable("dsn", value)


def _url_of(value: Any) -> str:
    """The PostgreSQL URL of a SQLAlchemy engine or URL object, read by duck typing so
    that jobconsole needs no SQLAlchemy."""
    url = getattr(value, "url", value)      # an Engine holds its URL
    render = getattr(url, "render_as_string", None)
    if callable(render):
        text = render(hide_password=False)  # str() of a URL hides it (SQLAlchemy >= 1.4)
    elif hasattr(url, "drivername"):
        text = str(url)                     # SQLAlchemy < 1.4: str() kept the password
    else:
        raise BadInput(f"dsn must be a libpq DSN or URI (a str), a SQLAlchemy engine or URL, "
                       f"or None, got {shown(value)}")
    scheme, sep, rest = str(text).partition("://")
    # 'postgresql+psycopg2': the driver is SQLAlchemy's choice; libpq needs the database
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise BadInput(f"dsn: the engine's URL is not a PostgreSQL one: {scheme or text!r:.60}")
    return f"postgresql://{rest}"


def path(name: str, value: Any) -> str:
    """A file path or a dotted module name, as text."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} must be a file path or a module name (a str or a Path), "
                       f"got {shown(value)}")
    return _storable(name, value)
