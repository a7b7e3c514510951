"""The core type-checks: what users' editors and type checkers read of the public api
(annotated, shipped with py.typed) agrees with the code."""
import os
import subprocess
import sys

from helpers import ROOT, installed_layout


def test_the_core_type_checks_with_mypy(tmp_path):
    # the package as installed: an editable install's import hook is invisible to mypy
    site = installed_layout(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", os.path.join(ROOT, "pyproject.toml"),
         "--cache-dir", str(tmp_path / "mypy-cache"), "-p", "jobconsole"],
        cwd=site, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MYPYPATH": str(site)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_package_says_it_is_typed():
    assert os.path.exists(os.path.join(ROOT, "core", "py.typed"))
