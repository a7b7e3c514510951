"""The status vocabularies are defined once in Python (records.py); the schema must say
the same where SQL needs them literally (checks, and the predicates of partial
indexes, which a query uses only when it restates them)."""
import re
from pathlib import Path

import pytest

from jobconsole import db, records

SCHEMA = (Path(__file__).parents[2] / "core" / "schema.sql").read_text()


def predicate_of(index):
    return re.search(rf"create (?:unique )?index {index} on [^;]*? where status in (\([^)]*\))",
                     SCHEMA, re.S).group(1)


def test_the_live_worker_statuses_are_those_of_the_index_of_live_workers():
    assert predicate_of("worker_live") == db.sql_list(records.LIVE_WORKER)


def test_the_live_monitor_statuses_are_those_of_the_one_live_monitor_index():
    assert predicate_of("monitor_live") == db.sql_list(records.LIVE_MONITOR)


def test_a_task_may_have_exactly_the_statuses_of_the_vocabulary():
    allowed = re.search(r"create table jobconsole\.task \(.*?check \(status in (\([^)]*\))\)",
                        SCHEMA, re.S).group(1)
    assert allowed == db.sql_list(records.TASK_STATUSES)


def test_finished_statuses_are_the_last_of_a_tasks_life():
    assert records.TASK_STATUSES[-len(records.FINISHED):] == records.FINISHED


def test_an_sql_list_quotes_plain_words():
    assert db.sql_list(("a", "b_c")) == "('a', 'b_c')"


@pytest.mark.parametrize("words", [("it's",), ("a b",), (1,)])
def test_an_sql_list_refuses_anything_but_plain_words(words):
    with pytest.raises(ValueError):
        db.sql_list(words)
