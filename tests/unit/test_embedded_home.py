"""Where the embedded PostgreSQL lives (jobconsole.embedded.home): read from the
environment only, so no server is needed to check it."""
from jobconsole import embedded


def test_home_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("JOBCONSOLE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert embedded.home() == tmp_path / ".local" / "share" / "jobconsole"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert embedded.home() == tmp_path / "xdg" / "jobconsole"
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path / "jc"))
    assert embedded.home() == tmp_path / "jc"


def test_a_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path):
    # the XDG specification says so: it would depend on the current directory
    monkeypatch.delenv("JOBCONSOLE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    assert embedded.home() == tmp_path / ".local" / "share" / "jobconsole"


def test_a_tilde_in_jobconsole_home_is_the_users_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("JOBCONSOLE_HOME", "~/jc")
    assert embedded.home() == tmp_path / "jc"
