"""The CLI's plain-text rendering (jobconsole.console.render): tables, times and
durations, progress bars, and JSON for scripts."""
import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from samples import schedule_info, task_info

from jobconsole.console import render

UTC = timezone.utc
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)     # 10:30 in Paris


@pytest.fixture
def clock(monkeypatch):
    """render's clock stopped at NOW, and this process's local time that of Paris."""
    monkeypatch.setattr(render, "now", lambda: NOW)
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()     # astimezone() without a zone reads the C library's idea of local time
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


# --- tables --------------------------------------------------------------------------

def test_a_table_has_upper_case_headers_and_columns_two_spaces_apart():
    assert render.table(["id", "operation"], [[1, "resize_images"], [12, "ping"]]) == (
        "ID  OPERATION\n"
        "1   resize_images\n"
        "12  ping")


def test_a_column_is_as_wide_as_its_widest_cell_or_header():
    assert render.table(["status", "x"], [["a", "long value"]]) == (
        "STATUS  X\n"
        "a       long value")


def test_an_empty_cell_leaves_no_trailing_spaces():
    assert render.table(["id", "owner"], [[1, None], [2, ""]]) == "ID  OWNER\n1\n2"


def test_a_table_without_rows_is_its_header_line():
    assert render.table(["id", "owner"], []) == "ID  OWNER"


def test_a_long_cell_is_cut_with_an_ellipsis_at_the_maximum_width():
    assert render.table(["x", "y"], [["a" * 10, "b"]], max_width=5) == (
        "X      Y\n"
        "aaaa…  b")
    assert render.table(["x"], [["a" * 5]], max_width=5) == "X\naaaaa"


def test_a_cell_is_sanitised_without_colours_so_columns_stay_aligned():
    # colour sequences would count in the width without taking room on the screen
    table = render.table(["op", "owner"], [["\x1b[31mred\x1b[0m\x1b[2J", "a\nb"], ["x", "y"]])
    assert table == (
        "OP   OWNER\n"
        "red  a b\n"
        "x    y")


# --- times and durations -------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [
    (0, "0ms"), (0.04, "40ms"), (0.9996, "1.0s"),           # milliseconds under a second
    (1, "1.0s"), (9.94, "9.9s"),                             # tenths under ten seconds
    (10, "10s"), (95, "95s"), (119.4, "119s"),               # whole seconds under two minutes
    (120, "2m00s"), (185, "3m05s"), (7199, "119m59s"),       # minutes under two hours
    (7200, "2h00m"), (3 * 86400 + 61, "72h01m"),             # then hours, never days
])
def test_seconds_are_shown_in_the_unit_that_fits(seconds, text):
    assert render.seconds_text(seconds) == text


def test_seconds_that_round_up_to_a_whole_minute_carry_into_the_minutes():
    assert render.seconds_text(179.6) == "3m00s"


def test_a_duration_is_from_start_to_end(clock):
    assert render.duration(NOW, NOW + timedelta(seconds=95)) == "95s"


def test_an_unfinished_duration_runs_to_now(clock):
    assert render.duration(NOW - timedelta(minutes=3)) == "3m00s"


def test_no_start_is_no_duration(clock):
    assert render.duration(None) == ""
    assert render.duration(None, NOW) == ""


def test_a_countdown_counts_to_a_future_moment_and_stops_at_zero(clock):
    assert render.countdown(NOW + timedelta(minutes=5)) == "in 5m00s"
    assert render.countdown(NOW - timedelta(minutes=5)) == "in 0ms"


def test_a_moment_of_today_is_shown_as_a_local_time_of_day(clock):
    assert render.when(datetime(2026, 1, 5, 8, 0, tzinfo=UTC)) == "09:00:00"


def test_today_is_the_local_day_not_utcs(clock):
    # 23:30 UTC on the 4th is already the 5th in Paris
    assert render.when(datetime(2026, 1, 4, 23, 30, tzinfo=UTC)) == "00:30:00"
    assert render.when(datetime(2026, 1, 4, 22, 0, tzinfo=UTC)) == "2026-01-04 23:00"


def test_a_moment_of_another_day_is_shown_with_its_date(clock):
    assert render.when(datetime(2025, 12, 24, 17, 5, 59, tzinfo=UTC)) == "2025-12-24 18:05"


def test_no_moment_is_shown_as_nothing(clock):
    assert render.when(None) == ""


# --- progress ------------------------------------------------------------------------

def test_a_task_that_reported_no_progress_shows_none():
    assert render.progress(task_info()) == ""


def test_progress_with_a_total_is_a_bar_and_a_percentage():
    assert render.progress(task_info(progress_done=6, progress_total=10)) == "██████░░░░  60%"
    assert render.progress(task_info(progress_done=0, progress_total=3)) == "░░░░░░░░░░   0%"
    assert render.progress(task_info(progress_done=1, progress_total=3), width=3) == "█░░  33%"


def test_progress_beyond_its_total_shows_a_full_bar_not_more():
    assert render.progress(task_info(progress_done=15, progress_total=10)) == "██████████ 100%"
    assert render.progress(task_info(progress_done=-1, progress_total=10)) == "░░░░░░░░░░   0%"


def test_progress_without_a_total_is_the_count_done():
    assert render.progress(task_info(progress_done=42.0)) == "42"
    assert render.progress(task_info(progress_done=2.5)) == "2.5"
    # a total of zero is no total: no fraction to show
    assert render.progress(task_info(progress_done=7, progress_total=0)) == "7"


# --- JSON ----------------------------------------------------------------------------

def strict_loads(text):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_to_json_writes_nan_and_infinities_as_null_at_any_depth():
    value = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5],
             "c": ({"d": float("nan")},)}
    assert strict_loads(render.to_json(value)) == {
        "a": None, "b": [None, None, 1.5], "c": [{"d": None}]}


def test_to_json_writes_times_in_iso_8601_and_bytes_as_their_size():
    value = {"at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "raw": b"abc",
             "view": memoryview(b"ab")}
    assert strict_loads(render.to_json(value)) == {
        "at": "2026-01-05T09:00:00+00:00", "raw": "<3 bytes>", "view": "<2 bytes>"}


def test_to_json_is_indented_and_keeps_non_ascii_text_readable():
    assert render.to_json({"name": "café"}) == '{\n  "name": "café"\n}'


def test_to_json_refuses_what_it_cannot_write():
    with pytest.raises(TypeError):
        render.to_json({"x": object()})


def test_a_task_as_json_is_strict_json_even_with_an_old_rows_nan():
    task = task_info(progress_done=float("nan"), progress_total=float("inf"), raw_input=b"\x00\x01")
    data = strict_loads(render.to_json(task.as_json()))
    assert (data["progress_done"], data["progress_total"]) == (None, None)
    assert data["raw_input"] == "<2 bytes>" and data["queued"] == "2026-01-05T09:00:00+00:00"


def test_a_value_is_shown_as_compact_json():
    assert render.value_text({"file": "nov.csv", "n": [1, 2]}) == '{"file": "nov.csv", "n": [1, 2]}'
    assert render.value_text("café") == '"café"'
    assert render.value_text(None) == "null"


def test_a_raw_value_is_shown_as_its_size():
    assert render.value_text(None, b"\x00" * 12) == "<12 bytes>"
    assert render.value_text(None, b"") == "<0 bytes>"


def test_a_tasks_input_is_its_json_or_its_raw_inputs_size():
    assert render.input_text(task_info(input={"count": 5})) == '{"count": 5}'
    assert render.input_text(task_info(input=None, raw_input=b"1234")) == "<4 bytes>"


# --- schedules -----------------------------------------------------------------------

def test_a_schedules_last_task_is_its_id_and_status():
    assert render.last_task(schedule_info(last_task_id=42, last_task_status="done")) == "#42 done"


def test_a_last_task_since_deleted_says_so():
    assert render.last_task(schedule_info(last_task_id=42, last_task_status=None)) == "#42 deleted"


def test_a_schedule_that_never_fired_has_no_last_task():
    assert render.last_task(schedule_info()) == ""


def test_the_missed_policy_shows_how_many_fire_times_were_missed():
    assert render.missed(schedule_info(missed="skip")) == "skip"
    assert render.missed(schedule_info(missed="once", missed_count=3)) == "once, 3 missed"


def test_a_workers_cpu_is_a_small_bar():
    from jobconsole.console.columns import bar
    assert bar(None) == ""
    assert bar(0) == "░░░░░   0%"
    assert bar(63) == "███░░  63%"
    assert bar(180) == "█████ 180%"      # several cores: full, and the figure says how far


def test_a_workers_memory_is_a_bar_of_its_limit_labelled_with_its_size():
    from jobconsole.console.columns import _memory
    worker = lambda mb, percent: type("W", (), {"mem_mb": mb, "mem_percent": percent})()
    assert _memory(worker(None, None)) == ""
    assert _memory(worker(48, None)) == "48 MB"          # a monitor that did not say
    assert _memory(worker(410, 80.1)) == "████░ 410 MB"
