"""The query language of task filters (jobconsole.query): what each term compiles to,
that no text of the user's reaches the SQL, and the errors that say where."""
import pytest

from jobconsole.errors import QueryError
from jobconsole.query import compile


def test_an_empty_query_is_no_condition():
    assert compile("") is None and compile("   ") is None and compile(None) is None


def test_qualifiers_become_bare_conditions_on_their_columns_with_parameters():
    # bare: the planner matches `status = $1` to the status index, not coalesce(...)
    q = compile("status:failed op:report owner:alice kind:timeout workflow:nightly")
    assert q.sql == ("status = %(q0)s and operation = %(q1)s and owner = %(q2)s"
                     " and error_kind = %(q3)s and workflow = %(q4)s")
    assert q.params == {"q0": "failed", "q1": "report", "q2": "alice", "q3": "timeout",
                        "q4": "nightly"}


def test_comma_separated_values_match_any_of_them():
    q = compile("status:failed,aborted")
    assert "status = any(%(q0)s::text[])" in q.sql
    assert q.params == {"q0": ["failed", "aborted"]}


def test_ages_and_durations_compare_in_seconds():
    q = compile("age>1h dur<=30s age<1.5m dur>=2d")
    assert q.params == {"q0": 3600.0, "q1": 30.0, "q2": 90.0, "q3": 172800.0}
    # an age compares the column alone with a bound: older than 1h, queued before then
    assert "queued < now() - make_interval(secs => %(q0)s::float8)" in q.sql
    assert "queued > now() - make_interval(secs => %(q2)s::float8)" in q.sql
    assert "coalesce(finished, now()) - started <= make_interval" in q.sql


def test_numbers_compare_and_match():
    q = compile("id>100 priority<0 worker:3,4")
    assert q.params == {"q0": 100, "q1": 0, "q2": [3, 4]}


def test_free_text_is_a_substring_taken_literally_and_bang_negates():
    q = compile("carol !50%_done")
    assert q.params == {"q0": "%carol%", "q1": "%50\\%\\_done%"}
    assert q.sql.startswith("(id::text") and q.sql.endswith(") is not true")


def test_a_negated_qualifier_keeps_rows_where_the_column_is_empty():
    # (owner = 'alice') is not true: a task with no owner is "not alice"
    assert compile("!owner:alice").sql == "(owner = %(q0)s) is not true"


def test_quoted_values_hold_spaces_and_quotes():
    assert compile('owner:"Ada L"').params == {"q0": "Ada L"}
    assert compile(r'"say \"hi\""').params == {"q0": '%say "hi"%'}


def test_user_text_never_reaches_the_sql():
    hostile = "op:x');drop_table owner:\"'; delete from t; --\" robert');--"
    q = compile(hostile)
    for value in q.params.values():
        assert str(value).strip("%").replace("\\", "") not in q.sql
    assert "drop" not in q.sql and "delete" not in q.sql


def test_a_lone_bang_is_ignored():
    assert compile("!") is None


@pytest.mark.parametrize("query, message, position", [
    ("stat:failed", "unknown qualifier 'stat'", 1),
    ("status:finished", "unknown status 'finished'", 1),
    ("kind:oops", "unknown error kind 'oops'", 1),
    ("age>1x", "'1x' is not a duration", 5),
    ("owner>3", "cannot compare 'owner'", 1),
    ("id>ten", "'ten' is not a whole number", 4),
    ("op: x", "op: needs a value", 1),
    ('owner:"open', "a quote is not closed", 7),
    ("status:failed carol age>", "age> needs a value", 21),
])
def test_a_malformed_query_says_what_and_where(query, message, position):
    with pytest.raises(QueryError, match=message) as caught:
        compile(query)
    assert caught.value.position == position - 1
    assert f"(at character {position})" in str(caught.value)
