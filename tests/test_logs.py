"""Task logs: what is captured, how it is stored, how it is shown, following live."""
import re
import threading

from helpers import wait_for

from jobconsole import api

HOSTILE = ["[/]", "[@click=app.quit]", "[bold red]not markup[/bold red]",
           "\x1b[2Jclear screen", "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
           "\x1b[31mred\x1b[0m", "tab\there", "nul<NUL>byte"]


def test_print_stderr_and_logging_are_captured_in_order(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": ["one", "two"]}).join(timeout=30)
    assert task.state == "done"
    assert [line for _, line in task.logs()] == [
        "one", "two", "to stderr", "INFO chatty: through logging", "no newline at the end"]


def test_each_line_knows_its_source_when_the_worker_does(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": ["one"]}).join(timeout=30)
    assert [(line, source) for _, line, _, source in task.logs(detailed=True)] == [
        ("one", "stdout:INFO"), ("to stderr", "stderr:ERROR"),
        ("INFO chatty: through logging", "chatty:INFO"),
        ("no newline at the end", "stdout:INFO")]


def test_log_task_prefix_prints_reworks_line_prefix(dsn, start_monitor):
    from test_cli import jc
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": ["[b]one[/b]"]}).join(timeout=30)
    code, out, _ = jc(dsn, "log-task", str(task.id), "--prefix")
    assert code == 0
    assert [re.sub(r"\d", "0", line) for line in out.splitlines()] == [
        "stdout:INFO: 0000-00-00 00:00:00: [b]one[/b]",
        "stderr:ERROR: 0000-00-00 00:00:00: to stderr",
        "chatty:INFO: 0000-00-00 00:00:00: through logging",
        "stdout:INFO: 0000-00-00 00:00:00: no newline at the end"]


def test_log_lines_are_stored_as_written(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": HOSTILE}).join(timeout=30)
    lines = [line for _, line in task.logs()][:len(HOSTILE)]
    # PostgreSQL text cannot hold NUL: that one character is replaced, nothing else
    assert lines == HOSTILE[:-1] + ["nul\ufffdbyte"]
    assert task.info().status == "done"


def test_logs_from_fromid_returns_only_later_lines(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": ["a", "b", "c"]}).join(timeout=30)
    first, second, *_ = task.logs()
    assert [l for _, l in task.logs(fromid=first[0])][:2] == ["b", "c"]


def test_a_long_task_streams_its_log_before_it_ends(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "ticker", 30)          # 3 s
    wait_for(lambda: len(task.logs()) >= 3, 5, "the first ticks")
    assert task.state == "running"
    task.join(timeout=30)
    assert [l for _, l in task.logs()] == [f"tick {i}" for i in range(30)]


def test_follow_yields_lines_as_they_come_and_stops_when_the_task_ends(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "ticker", 10)
    seen = []
    follower = threading.Thread(target=lambda: seen.extend(l for _, l in task.follow()))
    follower.start()
    wait_for(lambda: seen, 5, "the first followed line")
    assert task.state == "running"
    follower.join(timeout=30)
    assert not follower.is_alive()
    assert seen == [f"tick {i}" for i in range(10)]


def test_undecodable_text_in_a_log_is_stored_with_a_replacement_character(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "undecodable_log").join(timeout=30)
    assert (task.state, task.output) == ("done", "ok")
    assert [line for _, line in task.logs()] == ["processing caf\ufffd.csv"]


def test_an_output_that_is_not_valid_unicode_fails_the_task_with_a_clear_error(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "undecodable_output").join(timeout=30)
    assert (task.state, task.error_kind) == ("failed", "error")
    assert "output contains text that is not valid Unicode" in task.traceback
    assert api.schedule(dsn, "double", 1).join(timeout=30).output == 2   # the worker lives
