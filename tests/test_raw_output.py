"""A task's raw output never reaches the operator's terminal: whatever a worker writes
on file descriptors 1 and 2 (print, stderr, os.write, a child process), with or without
capturelogs, goes to the running task's log, or, outside a task, to the monitor's log,
sanitised."""
import os
import re

import pytest
from helpers import HERE
from ops import RAW

from jobconsole import api

NOISY = os.path.join(HERE, "noisy_ops.py")


@pytest.fixture(autouse=True)
def buffered(monkeypatch):
    """Workers as they usually are: Python's and C's stdio buffer a pipe in blocks."""
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)


def assert_clean(text):
    """Nothing a terminal would act on: no escape, no bell, no other control."""
    assert "\x1b" not in text and "\x07" not in text, repr(text)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), repr(text)


def lines_of(task):
    return [line for _, line in task.logs()]


def test_what_a_task_writes_anyhow_goes_to_its_log_not_the_terminal(dsn, start_monitor):
    mon = start_monitor()
    task = api.schedule(dsn, "raw_output", "X1").join(timeout=30)
    assert task.state == "done", task.traceback
    mon.stop()
    terminal = mon.output()
    assert_clean(terminal)
    assert "X1" not in terminal
    # stored as written, in the order written (one pipe carries all of it), the line
    # left without a newline included; shown sanitised
    lines = lines_of(task)
    assert lines == [f"print {RAW}X1", f"stderr {RAW}X1", f"fd1 {RAW}X1", f"child {RAW}X1",
                     "logging X1", "partial X1"]
    assert [api.sanitize(line) for line in lines] == [
        "print X1", "stderr X1", "fd1 X1", "child X1", "logging X1", "partial X1"]


def test_each_task_gets_its_own_lines(dsn, start_monitor):
    start_monitor()
    first, second = api.schedule_many(dsn, "raw_output", ["A", "B"])
    for task, mark in ((first, "A"), (second, "B")):
        assert task.join(timeout=30).state == "done"
        assert [api.sanitize(line) for line in lines_of(task)] == [
            f"print {mark}", f"stderr {mark}", f"fd1 {mark}", f"child {mark}",
            f"logging {mark}", f"partial {mark}"]


def test_bytes_that_are_not_text_and_runaway_lines_are_bounded(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "raw_bytes", 100000).join(timeout=30)
    assert task.state == "done", task.traceback
    assert lines_of(task) == ["bad \ufffd\ufffd bytes", "x" * 16384 + "… [83616 more bytes]",
                              "after"]


def test_output_outside_a_task_reaches_the_monitors_log_sanitised(dsn, start_monitor):
    api.register_operations(dsn, NOISY)     # prints when a worker imports it
    mon = start_monitor()
    task = api.schedule(dsn, "quiet").join(timeout=30)
    assert task.output == "quiet"
    assert lines_of(task) == []             # nothing of the import is the task's
    mon.stop()
    terminal = mon.output()
    assert_clean(terminal)
    assert re.search(r"^worker \d+: imported noisy$", terminal, re.M), terminal
    assert re.search(r"^worker \d+: fd2 at import noisy$", terminal, re.M), terminal


def test_a_tee_goes_to_the_monitors_log_sanitised_and_once_to_the_task_log(dsn, start_monitor):
    mon = start_monitor()
    task = api.schedule(dsn, "raw_teed", "T1").join(timeout=30)
    assert task.state == "done", task.traceback
    assert lines_of(task) == [f"teed {RAW}T1"]
    mon.stop()
    terminal = mon.output()
    assert_clean(terminal)
    assert re.search(r"^worker \d+: teed T1$", terminal, re.M), terminal


def test_what_c_code_leaves_in_its_stdio_buffer_is_the_tasks(dsn, start_monitor):
    start_monitor()
    first, second = api.schedule_many(dsn, "raw_c", ["C1", "C2"])
    assert [l for t in (first, second) for l in lines_of(t.join(timeout=30))] == [
        "from C C1", "from C C2"]
