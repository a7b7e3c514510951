"""The fast tier: pure logic, no database server, no subprocess.

tests/conftest.py's fixtures start a server only when a test asks for one; here a test
that asks is an error before any fixture runs, and a test that would start a process
fails at the attempt. A test that needs either belongs in tests/, not in tests/unit/.
"""
import subprocess

import pytest

DATABASE_FIXTURES = {"server_dsn", "template", "dsn", "sql_conn", "start_monitor"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # tryfirst: checked before pytest sets up the test's fixtures, so a session-wide
    # server is never started for a unit test that (wrongly) asked for one
    wanted = sorted(DATABASE_FIXTURES.intersection(item.fixturenames))
    if wanted:
        pytest.fail(f"a unit test may not use a database fixture ({', '.join(wanted)}): "
                    f"move it to tests/", pytrace=False)


class _NoSubprocess:
    def __init__(self, args, *rest, **kwargs):
        raise AssertionError(f"a unit test may not start a process ({args!r}): "
                             f"move it to tests/")


@pytest.fixture(autouse=True)
def no_subprocess(monkeypatch):
    # subprocess.run, check_output and asyncio's subprocesses all go through Popen
    monkeypatch.setattr(subprocess, "Popen", _NoSubprocess)
