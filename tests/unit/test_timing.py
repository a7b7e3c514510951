"""The supervision clock (jobconsole.timing.Timing): defaults, and the environment
variables that override them (how the tests run a crash cycle in a second or two)."""
import pytest

from jobconsole.timing import Timing

VARIABLES = {
    "heartbeat": "JOBCONSOLE_HEARTBEAT",
    "stale": "JOBCONSOLE_STALE",
    "kill_grace": "JOBCONSOLE_KILL_GRACE",
    "poll": "JOBCONSOLE_POLL",
    "log_flush": "JOBCONSOLE_LOG_FLUSH",
    "schedule_grace": "JOBCONSOLE_SCHEDULE_GRACE",
}


@pytest.fixture(autouse=True)
def no_overrides(monkeypatch):
    # tests/conftest.py sets fast clocks for the whole session: start from none here
    for name in VARIABLES.values():
        monkeypatch.delenv(name, raising=False)


def test_without_variables_the_clock_is_the_default_one():
    assert Timing.from_env() == Timing()
    assert Timing() == Timing(heartbeat=2.0, stale=30.0, kill_grace=3.0, poll=5.0,
                              log_flush=0.2, schedule_grace=60.0)


@pytest.mark.parametrize("field, variable", VARIABLES.items())
def test_each_variable_overrides_its_own_setting_only(field, variable, monkeypatch):
    monkeypatch.setenv(variable, "0.25")
    timing = Timing.from_env()
    assert getattr(timing, field) == 0.25
    others = {f: getattr(timing, f) for f in VARIABLES if f != field}
    assert others == {f: getattr(Timing(), f) for f in VARIABLES if f != field}


def test_values_are_read_as_numbers_of_seconds(monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_STALE", "90")
    monkeypatch.setenv("JOBCONSOLE_POLL", "1e-1")
    timing = Timing.from_env()
    assert (timing.stale, timing.poll) == (90.0, 0.1)
    assert isinstance(timing.stale, float)


def test_an_empty_variable_is_no_override(monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HEARTBEAT", "")
    assert Timing.from_env().heartbeat == 2.0


def test_a_value_that_is_not_a_number_is_an_error(monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_KILL_GRACE", "three")
    with pytest.raises(ValueError):
        Timing.from_env()


def test_a_clock_is_frozen():
    with pytest.raises(AttributeError):
        Timing().stale = 1.0
