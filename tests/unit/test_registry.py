"""Operations declared in this process (jobconsole.registry): the checks of seconds and
retry policies, what the @task decorator refuses, lookup, and importing a user's file."""
import math
import sys

import pytest

from jobconsole import registry
from jobconsole.errors import BadInput
from jobconsole.registry import MAX_RETRIES, MAX_SECONDS, check_retries, check_seconds, task


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    # the decorator records into a module-wide dict: each test starts from an empty one,
    # and what it declares is gone after it
    monkeypatch.setattr(registry, "_operations", {})


# --- seconds -------------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [0, 0.5, 30, 86400.0, MAX_SECONDS])
def test_a_number_of_seconds_up_to_ten_years_is_returned_as_given(seconds):
    assert check_seconds(seconds, "timeout") == seconds


def test_no_seconds_means_none_given():
    assert check_seconds(None, "timeout") is None


@pytest.mark.parametrize("seconds", [-1, -0.001, MAX_SECONDS + 1, math.inf, -math.inf, math.nan])
def test_negative_infinite_and_absurd_seconds_are_refused(seconds):
    # stored, an infinite or enormous interval would break every monitor that
    # computes a deadline from it
    with pytest.raises(BadInput, match="timeout must be 0 seconds or more, and at most ten years"):
        check_seconds(seconds, "timeout")


@pytest.mark.parametrize("seconds", [True, False, "30", b"30", [30]])
def test_seconds_must_be_a_number_and_a_boolean_is_not_one(seconds):
    with pytest.raises(BadInput, match="got"):
        check_seconds(seconds, "backoff")


def test_zero_seconds_can_be_refused_where_it_means_nothing():
    with pytest.raises(BadInput, match="timeout must be positive"):
        check_seconds(0, "timeout", zero_ok=False)
    assert check_seconds(0.001, "timeout", zero_ok=False) == 0.001


def test_the_message_names_the_setting_and_the_value():
    with pytest.raises(BadInput) as caught:
        check_seconds(-5, "delay")
    assert str(caught.value) == ("delay must be 0 seconds or more, and at most ten years "
                                 "(315,360,000 s), got -5")


# --- retry policies ------------------------------------------------------------------

def test_a_retry_policy_returns_its_error_kinds_as_a_tuple():
    assert check_retries(3, 1.5, ["error", "crash"]) == ("error", "crash")
    assert check_retries(0, 0, ("timeout",)) == ("timeout",)


def test_a_single_error_kind_may_be_given_as_a_string():
    assert check_retries(1, 0, "crash") == ("crash",)


def test_none_leaves_each_part_of_a_policy_unset():
    assert check_retries(None, None, None) is None


@pytest.mark.parametrize("retries", [0, 1, MAX_RETRIES])
def test_from_zero_to_a_thousand_retries_are_allowed(retries):
    check_retries(retries, 0, "error")


@pytest.mark.parametrize("retries", [-1, MAX_RETRIES + 1, 2.0, True, "3"])
def test_retries_must_be_a_whole_number_in_range(retries):
    with pytest.raises(BadInput, match="retries must be a whole number from 0 to 1000"):
        check_retries(retries, 0, "error")


def test_a_backoff_is_checked_as_seconds():
    with pytest.raises(BadInput, match="backoff must be 0 seconds or more"):
        check_retries(3, math.inf, "error")


@pytest.mark.parametrize("kinds", ["abort", ["error", "abort"], ["Error"], ["oops"]])
def test_only_errors_timeouts_and_crashes_can_be_retried(kinds):
    with pytest.raises(BadInput, match="cannot retry on .*: only on error, timeout, crash"):
        check_retries(3, 0, kinds)


# --- the @task decorator -------------------------------------------------------------

def test_a_bare_decorator_declares_the_function_under_its_own_name_in_the_default_domain():
    def resize(t):
        return t

    assert task(resize) is resize            # the function is returned unchanged
    op = registry.lookup("resize", "default")
    assert (op.name, op.func, op.domain, op.timeout, op.retries, op.backoff, op.retry_on) == (
        "resize", resize, "default", None, 0, 0.0, ("error", "timeout", "crash"))


def test_a_decorator_with_settings_records_them():
    @task(name="thumbnails", domain="media", timeout=30, retries=2, backoff=1.5,
          retry_on="crash")
    def make(t):
        pass

    op = registry.lookup("thumbnails", "media")
    assert (op.func, op.timeout, op.retries, op.backoff, op.retry_on) == (make, 30, 2, 1.5, ("crash",))
    assert op.module == __name__
    assert registry.lookup("make", "media") is None


def test_one_name_can_be_declared_in_several_domains():
    @task(name="ping", domain="a")
    def ping_a(t):
        pass

    @task(name="ping", domain="b")
    def ping_b(t):
        pass

    assert registry.lookup("ping", "a").func is ping_a
    assert registry.lookup("ping", "b").func is ping_b


def test_declaring_a_name_again_in_its_domain_replaces_it():
    @task(name="ping")
    def first(t):
        pass

    @task(name="ping")
    def second(t):
        pass

    assert registry.lookup("ping", "default").func is second


def test_lookup_of_an_unknown_name_or_domain_is_none():
    task(lambda t: None, name="known")
    assert registry.lookup("unknown", "default") is None
    assert registry.lookup("known", "elsewhere") is None


def test_declared_in_lists_the_operations_of_one_module():
    task(lambda t: None, name="here")
    assert [op.name for op in registry.declared_in(__name__)] == ["here"]
    assert registry.declared_in("some_other_module") == []


@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan, "60"])
def test_the_decorator_refuses_a_timeout_that_is_not_a_positive_number_of_seconds(timeout):
    with pytest.raises(BadInput, match="timeout must be positive"):
        task(timeout=timeout)


@pytest.mark.parametrize("settings, message", [
    (dict(retries=-1), "retries must be a whole number"),
    (dict(retries=1.5), "retries must be a whole number"),
    (dict(backoff=-1), "backoff must be 0 seconds or more"),
    (dict(retry_on=["abort"]), "cannot retry on 'abort'"),
])
def test_the_decorator_refuses_a_retry_policy_it_cannot_follow(settings, message):
    with pytest.raises(BadInput, match=message):
        task(**settings)


@pytest.mark.parametrize("label, text", [
    ("name", ""), ("name", "two\nlines"), ("name", "\x1b[2Jclear"), ("name", 42),
    ("domain", ""), ("domain", "tab\there"), ("domain", b"media"),
])
def test_names_and_domains_must_be_printable_text(label, text):
    # they are shown in terminals: no control characters, escapes or new lines
    with pytest.raises(BadInput, match=f"an operation's {label} must be printable text"):
        task(**{label: text})


def test_a_refused_declaration_records_nothing():
    with pytest.raises(BadInput):
        @task(name="bad", timeout=-1)
        def bad(t):
            pass

    assert registry.lookup("bad", "default") is None


@pytest.mark.parametrize("setting", ["domain", "retries", "backoff"])
def test_the_decorator_refuses_none_for_a_setting_every_operation_has(setting):
    with pytest.raises(BadInput):
        task(lambda t: None, name="ping", **{setting: None})


def test_retry_on_none_means_the_default_kinds():
    task(lambda t: None, name="ping_default_kinds", retry_on=None)
    assert registry.lookup("ping_default_kinds", "default").retry_on == ("error", "timeout", "crash")


# --- importing a user's operations ---------------------------------------------------

def test_loading_a_file_imports_it_once_under_a_name_of_its_own(tmp_path):
    ops = tmp_path / "my_ops.py"
    ops.write_text("from jobconsole.registry import task\n"
                   "@task\n"
                   "def hello(t):\n"
                   "    return 'hi'\n")
    name = registry.load(str(ops))
    assert name.startswith("jobconsole_ops_") and sys.modules[name].__file__ == str(ops)
    assert registry.load(str(ops)) == name
    assert [op.name for op in registry.declared_in(name)] == ["hello"]
    assert registry.source_of(name) == str(ops)     # what a worker imports it back from


def test_loading_a_dotted_module_imports_it_by_name():
    assert registry.load("json.decoder") == "json.decoder"
    assert registry.source_of("json.decoder") == "json.decoder"


def test_a_missing_file_or_module_is_one_clear_error(tmp_path):
    with pytest.raises(BadInput, match="no such file: .*absent.py"):
        registry.load(str(tmp_path / "absent.py"))
    with pytest.raises(BadInput, match="no module named 'no_such_module_here' "
                                       r"\(not importable from here\)"):
        registry.load("no_such_module_here")


def test_an_error_in_a_users_file_is_reported_with_its_line_not_a_traceback(tmp_path):
    ops = tmp_path / "broken_ops.py"
    ops.write_text("x = 1\nraise ZeroDivisionError('boom')\n")
    with pytest.raises(BadInput) as caught:
        registry.load(str(ops))
    assert str(caught.value) == f"cannot import {ops}: ZeroDivisionError: boom (broken_ops.py, line 2)"
    # a failed import leaves nothing behind: fixed, the file loads at the next try
    ops.write_text("x = 1\n")
    assert registry.load(str(ops)).startswith("jobconsole_ops_")


def test_a_missing_dependency_of_a_users_file_is_named(tmp_path):
    ops = tmp_path / "needy_ops.py"
    ops.write_text("import no_such_dependency_here\n")
    with pytest.raises(BadInput, match="cannot import .*needy_ops.py: ModuleNotFoundError: "
                                       "No module named 'no_such_dependency_here' "
                                       r"\(needy_ops.py, line 1\)"):
        registry.load(str(ops))
