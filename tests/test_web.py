"""`jobconsole serve --web`: the console in a real browser (Debian's chromium, driven
through its chromedriver), read-only by default, behind a token on any bind other than
loopback, beside the Tethys status callback on the same port."""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from helpers import require, wait_for
from jobconsole import api

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebServer:
    def __init__(self, dsn, *args, host="0.0.0.0"):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jobconsole.console", "serve", "--web", "--host", host,
             "--port", str(self.port), *args], env=dict(os.environ, JOBCONSOLE_DSN=dsn),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.said = self.proc.stderr.readline()
        wait_for(lambda: status_of(f"http://127.0.0.1:{self.port}/update-job-status/1/"),
                 20, "the server to listen")
        found = re.search(r"token=([\w-]+)", self.said)
        self.token = found.group(1) if found else None
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self):
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=20)
        return self.said + out + err


def status_of(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.fixture
def server(dsn):
    started = []

    def start(*args, **kwargs):
        started.append(WebServer(dsn, *args, **kwargs))
        return started[-1]
    yield start
    for web in started:
        if web.proc.poll() is None:
            web.stop()


@pytest.fixture
def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        require("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    # the screen travels as the websocket's frames: what the page shows is read there
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    drivers = []

    def open_browser():
        drivers.append(webdriver.Chrome(service=Service(shutil.which("chromedriver")),
                                        options=options))
        return drivers[-1]
    yield open_browser
    for driver in drivers:
        driver.quit()


def screen_text(driver):
    """What the console sent the page so far (its screen, as terminal output)."""
    data = b""
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.webSocketFrameReceived":
            frame = message["params"]["response"]
            payload = frame["payloadData"]
            data += base64.b64decode(payload) if frame.get("opcode") == 2 else payload.encode()
    return data.decode("utf-8", "replace")


def test_the_console_in_a_browser_shows_the_tasks_read_only(dsn, server, browser, tmp_path):
    api.schedule(dsn, "double", 21, owner="webtester")
    web = server()
    assert web.token, web.said
    driver = browser()
    driver.get(f"{web.url}?token={web.token}")
    seen = []
    # the screen arrives in pieces: the table, then the status bar that says read-only
    wait_for(lambda: seen.append(screen_text(driver)) or
             all(w in "".join(seen) for w in ("STATUS", "webtester", "double", "read-only")),
             30, "the tasks table, read-only, in the page")
    driver.save_screenshot(str(tmp_path / "web.png"))
    # the page's own requests carry the cookie the token set: it reloads without it
    driver.get(web.url)
    assert "needs its token" not in driver.execute_script("return document.body.innerText")


def test_without_the_token_the_page_and_its_websocket_are_refused(dsn, server, browser):
    web = server()
    driver = browser()
    driver.get(web.url)
    assert "needs its token" in driver.execute_script("return document.body.innerText")
    assert status_of(f"{web.url}?token=wrong") == 403
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode()}
    assert status_of(f"{web.url}ws", upgrade) == 403
    # the status callback needs none: it only makes jobconsole look again
    assert status_of(f"{web.url}update-job-status/999/") == 404
    output = web.stop()
    assert output.count(web.token) == 1, "the token is printed once, and logged nowhere"


def test_a_loopback_bind_needs_no_token(dsn, server):
    web = server(host="127.0.0.1")
    assert web.token is None and "token=" not in web.said
    assert status_of(web.url) == 200


def test_actions_are_allowed_only_when_asked(dsn, server, browser):
    web = server("--allow-actions")
    assert "actions allowed" in web.said
    driver = browser()
    driver.get(f"{web.url}?token={web.token}")
    seen = []
    wait_for(lambda: seen.append(screen_text(driver)) or "Overview" in "".join(seen), 30,
             "the console in the page")
    time.sleep(1)
    assert "read-only" not in "".join(seen) + screen_text(driver)
