"""The layering docs/architecture.md describes, checked by import-linter's contracts in
pyproject.toml: the core is headless, and the console reaches it only through its api."""
import os
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, installed_layout


def test_the_import_contracts_hold(tmp_path):
    lint = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or \
        shutil.which("lint-imports")
    if lint is None:
        pytest.fail("import-linter is not installed: pip install -e '.[dev]'")
    # import-linter reads a package from its folder: the installed layout puts the
    # console inside the package, where an editable install of this checkout does not
    site = installed_layout(tmp_path)
    proc = subprocess.run([lint, "--config", os.path.join(ROOT, "pyproject.toml")],
                          cwd=site, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout
