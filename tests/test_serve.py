"""`jobconsole serve`: Tethys' status callback over real HTTP. A caller can only make
jobconsole look at a job again, never set its status."""
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from helpers import wait_for
from jobconsole.compat.tethys import JobManager


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(dsn):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "jobconsole.console", "serve", "--port",
                             str(port)], env=dict(os.environ, JOBCONSOLE_DSN=dsn),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(listening, 20, "the server to listen")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def call(url, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=body)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_callback_looks_again_and_answers_success(dsn, server):
    manager = JobManager("my_first_app", dsn)
    job = manager.create_job("j", "alice", "BASIC", operation="double", input=1).save()
    url = manager.get_job_status_callback_url(server, job.id)
    assert url == f"{server}/update-job-status/{job.id}/"
    assert call(url) == (200, {"success": True})
    # what a caller posts is not read: the job stays as it was
    assert call(url, "POST", b'{"status": "Complete"}') == (200, {"success": True})
    assert job.status == "Pending"


@pytest.mark.parametrize("path", ["/update-job-status/999999/", "/update-job-status/x/",
                                  "/update-job-status/99999999999999999999999/"])
def test_an_unknown_job_is_404(server, path):
    assert call(server + path) == (404, {"success": False})
