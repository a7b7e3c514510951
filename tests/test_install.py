"""jobconsole installed from its wheel into a fresh environment, used from a project that
has packages of its own named `core` and `console`, first on sys.path: both stay the
project's, and jobconsole's command, quick start and monitor work beside them."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import uuid

import psycopg
import pytest
from psycopg import conninfo, sql

from helpers import ROOT, wait_for

pytestmark = pytest.mark.slow

QUICK_START = """
import core, console
from jobconsole import api

assert core.WHO == "the project's core" and console.WHO == "the project's console"
task = api.schedule(None, "double", 21)
print(task.join(timeout=60).state, task.output, api.__file__)
"""

OPS = """
import core
from jobconsole import api

@api.task
def double(task):
    assert core.WHO == "the project's core"     # in the worker too
    task.save_output(task.input * 2)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with jobconsole's wheel installed, and no other copy:
    its dependencies come from the test environment's site-packages, added as a plain
    path (whose own .pth files, the editable install's among them, do not run)."""
    where = tmp_path_factory.mktemp("install")
    # built from a copy: a build in the checkout leaves a build/ folder behind, whose
    # stale files a later wheel could pick up
    source = where / "source"
    for folder in ("core", "console"):
        shutil.copytree(os.path.join(ROOT, folder), source / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(where / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = glob.glob(str(where / "dist" / "jobconsole-*.whl"))
    env_dir = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", wheel], check=True, timeout=300)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "test-dependencies.pth"), "w") as pth:
        pth.write(sysconfig.get_path("purelib") + "\n")
    return env_dir


@pytest.fixture
def project(tmp_path):
    """A user's project: its own `core` and `console` packages, and an operations file."""
    for name in ("core", "console"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f'WHO = "the project\'s {name}"\n')
    (tmp_path / "ops.py").write_text(textwrap.dedent(OPS))
    (tmp_path / "quick.py").write_text(textwrap.dedent(QUICK_START))
    return tmp_path


@pytest.fixture
def empty_database(server_dsn):
    name = f"jobconsole_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield conninfo.make_conninfo(server_dsn, dbname=name)
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_the_wheel_installs_one_package_and_leaves_a_projects_core_its_own(
        venv, project, dsn, empty_database):
    env = {**os.environ, "PYTHONPATH": str(project), "JOBCONSOLE_DSN": dsn}
    run = lambda *args: subprocess.run(args, cwd=project, env=env, capture_output=True,  # noqa: E731
                                       text=True, timeout=120)
    site = run(str(venv / "bin" / "python"), "-c", "import sysconfig; "
               "print(sysconfig.get_path('purelib'))").stdout.strip()
    assert sorted(n for n in os.listdir(site) if not n.endswith((".dist-info", ".pth"))) \
        == ["jobconsole"]

    assert run(str(venv / "bin" / "jobconsole"), "--help").returncode == 0
    created = run(str(venv / "bin" / "jobconsole"), "--dsn", empty_database, "init-db")
    assert created.stdout.startswith("created schema jobconsole"), created.stderr
    registered = run(str(venv / "bin" / "jobconsole"), "register-operations", "ops.py")
    assert registered.returncode == 0, registered.stderr
    monitor = subprocess.Popen([venv / "bin" / "jobconsole", "monitor", "--workers", "1"],
                               cwd=project, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        quick = run(str(venv / "bin" / "python"), "quick.py")
        assert quick.returncode == 0, quick.stderr
        state, output, api_file = quick.stdout.split()
        assert (state, output) == ("done", "42")
        assert api_file.startswith(str(venv))        # the wheel's jobconsole, not this tree
    finally:
        monitor.send_signal(signal.SIGTERM)
        wait_for(lambda: monitor.poll() is not None, 20, "the monitor to stop")
    assert monitor.returncode == 0, monitor.stderr.read()
