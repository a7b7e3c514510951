"""What a task's input, output, metadata and priority must be before they reach the
database (jobconsole.tasks.to_json_text, check_priority), and records made ready for
JSON (TaskInfo.progress and as_json, ScheduleInfo.as_json)."""
import json
import math
from datetime import datetime, timezone

import pytest
from samples import schedule_info, task_info

from jobconsole.errors import BadInput
from jobconsole.tasks import check_priority, to_json_text

# --- JSON for jsonb columns ----------------------------------------------------------


@pytest.mark.parametrize("value", [
    {"file": "nov.csv", "count": 5}, [1, 2.5, None, True], "text", 0, None,
    {"nested": {"list": [{"deep": "café 🎉"}]}},
])
def test_plain_json_values_become_json_text_that_reads_back_the_same(value):
    assert json.loads(to_json_text(value)) == value


def test_tuples_become_lists_and_keys_become_text():
    # as json.dumps does: what the task gets back is what JSON can say
    assert json.loads(to_json_text({1: (2, 3)})) == {"1": [2, 3]}


def test_a_text_that_only_spells_a_nul_escape_is_stored():
    # a backslash, then the letters u0000: no NUL character in it
    assert json.loads(to_json_text("\\u0000")) == "\\u0000"


@pytest.mark.parametrize("value", [b"bytes", object(), {1, 2}, {"when": datetime(2026, 1, 5)}])
def test_what_json_cannot_say_is_refused_with_the_way_to_pass_it(value):
    with pytest.raises(BadInput, match="input is not JSON-serialisable .*: "
                                       "pass bytes as rawinput= instead"):
        to_json_text(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, [1.0, -math.inf]])
def test_nan_and_infinities_are_refused(value):
    # JSON has no such numbers, and PostgreSQL's jsonb would refuse them
    with pytest.raises(BadInput, match="not JSON-serialisable"):
        to_json_text(value)


@pytest.mark.parametrize("value", ["nul\x00byte", {"k\x00": 1}, ["\\\x00"]])
def test_a_nul_character_is_refused_because_jsonb_cannot_store_it(value):
    with pytest.raises(BadInput, match="contains a NUL character, which PostgreSQL's jsonb "
                                       "cannot store"):
        to_json_text(value)


@pytest.mark.parametrize("value", ["caf\udce9.csv", {"\ud800": 1}])
def test_a_lone_surrogate_from_undecodable_bytes_is_refused(value):
    with pytest.raises(BadInput, match="not valid Unicode"):
        to_json_text(value)


def test_characters_beyond_the_basic_plane_are_not_mistaken_for_lone_surrogates():
    # JSON escapes them as a pair of surrogates: \ud83c\udf89
    assert json.loads(to_json_text({"party": "🎉"})) == {"party": "🎉"}


@pytest.mark.parametrize("what, hint", [
    ("input", "pass bytes as rawinput= instead"),
    ("output", "save bytes with save_output(data, raw=True) instead"),
    ("metadata", "make it plain JSON"),
])
def test_the_message_names_the_value_and_how_to_pass_it_instead(what, hint):
    with pytest.raises(BadInput) as caught:
        to_json_text(b"\x00", what)
    assert str(caught.value).startswith(f"{what} is not JSON-serialisable")
    assert str(caught.value).endswith(hint)


# --- priorities ----------------------------------------------------------------------

@pytest.mark.parametrize("priority", [0, 10, -10, -2**31, 2**31 - 1])
def test_a_priority_is_any_whole_number_the_integer_column_holds(priority):
    check_priority(priority)


@pytest.mark.parametrize("priority", [2**31, -2**31 - 1, 1.0, "1", None, True, False])
def test_other_priorities_are_refused(priority):
    with pytest.raises(BadInput, match="priority must be a whole number from "
                                       "-2,147,483,648 to 2,147,483,647"):
        check_priority(priority)


# --- records as JSON -----------------------------------------------------------------

def test_progress_is_the_fraction_done_between_zero_and_one():
    assert task_info(progress_done=3, progress_total=4).progress == 0.75
    assert task_info(progress_done=9, progress_total=4).progress == 1.0
    assert task_info(progress_done=-1, progress_total=4).progress == 0.0


def test_progress_without_a_total_has_no_fraction():
    assert task_info().progress is None
    assert task_info(progress_done=3).progress is None
    assert task_info(progress_done=3, progress_total=0).progress is None


def test_a_task_as_json_has_every_field_with_times_in_iso_8601_and_bytes_by_size():
    at = datetime(2026, 1, 5, 9, 0, 2, tzinfo=timezone.utc)
    data = task_info(finished=at, raw_output=b"\x89PNG", output=None).as_json()
    assert data["finished"] == "2026-01-05T09:00:02+00:00"
    assert data["raw_output"] == "<4 bytes>"
    assert data["input"] == {"count": 5} and data["started"] is None
    assert list(data) == [f for f in task_info().__dataclass_fields__]
    json.dumps(data)     # nothing left that JSON cannot say


def test_a_schedule_as_json_is_ready_for_json_too():
    data = schedule_info(raw_input=memoryview(b"abc"), input=None).as_json()
    assert data["raw_input"] == "<3 bytes>"
    assert data["next_fire"] == "2026-01-05T09:00:00+00:00" and data["last_fire"] is None
    assert json.loads(json.dumps(data))["rule"] == "*/5 * * * *"
