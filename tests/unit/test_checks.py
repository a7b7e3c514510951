"""The api's checks of its arguments (jobconsole.checks), without a database: what
each takes, and the one line it says about what it refuses."""
import math
from pathlib import Path

import pytest

from jobconsole import checks
from jobconsole.errors import BadInput


@pytest.mark.parametrize("check, value", [
    (lambda v: checks.count("n", v, 0, 10), True),
    (lambda v: checks.count("n", v, 0, 10), 11),
    (lambda v: checks.count("n", v, 0, 10), 1.0),
    (checks.task_id, 2**63),
    (lambda v: checks.row_id("worker", v), 2**31),
    (lambda v: checks.number("hours", v, 0, 10, low_open=True), 10**400),
    (lambda v: checks.number("hours", v, 0, 10, low_open=True), math.nan),
    (lambda v: checks.number("hours", v, 0, 10, low_open=True), 0),
    (lambda v: checks.number("timeout", v, 0, math.inf), -math.inf),
    (lambda v: checks.flag("all", v), 1),
    (lambda v: checks.text("operation", v), ""),
    (lambda v: checks.optional_text("owner", v), b"bytes"),
    (lambda v: checks.optional_text("owner", v), "a\udcffb"),
    (lambda v: checks.json_object("metadata", v), [("a", 1)]),
    (lambda v: checks.iterable("inputs", v, "inputs"), "abc"),
    (lambda v: checks.iterable("inputs", v, "inputs"), {"a": 1}),
    (lambda v: checks.task_ref("depends_on", v), "1"),
    (checks.dsn, 5432),
    (lambda v: checks.path("path", v), Path("\x00")),
])
def test_what_a_check_refuses_it_names_in_one_line(check, value):
    with pytest.raises(BadInput) as raised:
        check(value)
    assert "\n" not in str(raised.value)


def test_a_long_value_is_shown_cut_short():
    with pytest.raises(BadInput) as raised:
        checks.count("limit", "x" * 10_000, 1, 10)
    assert len(str(raised.value)) < 150


@pytest.mark.parametrize("check, value, taken", [
    (lambda v: checks.task_ref("depends_on", v), type("Info", (), {"id": 7})(), 7),
    (lambda v: checks.iterable("inputs", v, "inputs"), range(3), [0, 1, 2]),
    (lambda v: checks.iterable("inputs", v, "inputs"), (x for x in "ab"), ["a", "b"]),
    (lambda v: checks.number("timeout", v, 0, math.inf), math.inf, math.inf),
    (lambda v: checks.path("path", v), Path("ops.py"), "ops.py"),
    (checks.dsn, "", ""),
    (checks.dsn, None, None),
    (lambda v: checks.optional_text("owner", v), "", ""),
])
def test_what_a_check_takes_it_returns_as_the_database_will_take_it(check, value, taken):
    assert check(value) == taken
