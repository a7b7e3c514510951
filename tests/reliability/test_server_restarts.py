"""A PostgreSQL restart or crash in the middle of a run loses nothing and repeats nothing.

2,000 tasks of 5-20 ms through two monitors of three workers; the server goes away when
a third of them are done. The workers reconnect and record again what they held, so:
no task's code runs twice (though each may be retried twice), no task that finished is
recorded as a crash, none stays unfinished, and no worker process dies for it.
"""
import random
import time

import pytest

from helpers import wait_for

import journal

pytestmark = pytest.mark.slow

TASKS = 2000


def disrupt_restart_fast(server):
    server.restart("fast")


def disrupt_stop_immediate(server):
    server.stop("immediate")
    time.sleep(1)
    server.start()


def disrupt_sigkill_postmaster(server):
    server.kill()
    time.sleep(1)
    server.start()


def run_through_a_disruption(server, rdsn, monitors, journal_path, disrupt, lengths):
    """Tasks of these lengths (seconds) through two monitors of three workers, the server
    disrupted once a third of them have finished: each runs once, none is lost, and no
    worker process was replaced."""
    from jobconsole import api

    mons = [monitors("--workers", "3", host=host) for host in ("a", "b")]
    pids = {pid for mon in mons for pid in mon.wait_workers(3)}
    api.schedule_many(rdsn, "work", lengths, metadata={"journal": journal_path})
    wait_for(lambda: (journal.unfinished(rdsn) or len(lengths)) < len(lengths) * 2 // 3, 60,
             "a third of the tasks to finish")

    disrupt(server)

    wait_for(lambda: journal.unfinished(rdsn) == 0, 120, "every task to finish")
    seen = journal.verdict(journal_path, rdsn)
    assert seen.tasks == len(lengths)
    assert seen.failures() == {}
    assert {pid for mon in mons for pid in mon.wait_workers(3)} == pids, \
        "a worker process was replaced"


@pytest.mark.parametrize("disrupt", [disrupt_restart_fast, disrupt_stop_immediate,
                                     disrupt_sigkill_postmaster],
                         ids=["restart -m fast", "stop -m immediate", "SIGKILL postmaster"])
def test_nothing_runs_twice_or_is_lost_across_a_server_restart(
        server, rdsn, monitors, journal_path, disrupt):
    rng = random.Random(10)
    run_through_a_disruption(server, rdsn, monitors, journal_path, disrupt,
                             [rng.uniform(0.005, 0.02) for _ in range(TASKS)])


@pytest.mark.parametrize("disrupt", [disrupt_restart_fast, disrupt_stop_immediate,
                                     disrupt_sigkill_postmaster],
                         ids=["restart -m fast", "stop -m immediate", "SIGKILL postmaster"])
def test_tiny_tasks_claimed_in_groups_survive_a_server_restart(
        server, rdsn, monitors, journal_path, disrupt):
    """Tasks of no length are claimed, started and recorded in groups, one statement per
    group (transitions.CLAIM_STEP): a statement whose answer was lost must not leave its
    tasks started in a worker's name that never runs them."""
    run_through_a_disruption(server, rdsn, monitors, journal_path, disrupt, [0] * 20000)
