"""Regenerate the SVG screenshots in this folder from the real console on demo data.

    python screenshots/make.py            # a throwaway embedded server, then stopped
    JOBCONSOLE_DSN=... python screenshots/make.py   # or a database of your choice

It registers the demo operations, runs a demo monitor, queues the demo mix (the same
as `jobconsole demo`), lets it run a few seconds, then drives the app with Pilot and
saves what the screen shows.
"""
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
from jobconsole import api, db, embedded  # noqa: E402
from jobconsole.console.app import JobConsole  # noqa: E402
from jobconsole.console.demo import queue_mix  # noqa: E402
from jobconsole.console.task_screen import TaskScreen  # noqa: E402

SIZE = (120, 34)


async def shoot(dsn, train_id):
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        async def settle(seconds=0.6):
            await pilot.pause(seconds)

        await settle(1.5)
        app.save_screenshot("tasks.svg", str(HERE))
        table = app.screen.query_one("#table")
        table.move_cursor(row=table._order.index(str(train_id)))
        await pilot.press("a")
        await settle(0.3)
        app.save_screenshot("abort-confirm.svg", str(HERE))
        await pilot.press("n", "enter")
        await settle(1.5)
        assert isinstance(app.screen, TaskScreen)
        app.save_screenshot("task-log.svg", str(HERE))
        await pilot.press("escape", "2")
        await settle()
        app.save_screenshot("workers.svg", str(HERE))
        await pilot.press("3")
        await settle()
        app.save_screenshot("monitors.svg", str(HERE))
        await pilot.press("4")
        await settle()
        app.save_screenshot("schedules.svg", str(HERE))
        await pilot.press("1", "question_mark")
        await settle(0.3)
        app.save_screenshot("help.svg", str(HERE))
        await pilot.press("escape", "0")
        await settle(2.0)
        app.save_screenshot("overview.svg", str(HERE))
        await pilot.press("1", "slash", *"status:failed,aborted !op:sleep", "enter")
        await settle(1.5)
        app.save_screenshot("query.svg", str(HERE))


def shoot_web(dsn, port=8790):
    """web.png: the console in Debian's chromium, through `jobconsole serve --web`
    (skipped, saying so, where chromium or its driver is missing)."""
    import shutil
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("web.png not made: Debian's chromium and chromium-driver are not installed")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    server = subprocess.Popen(
        [sys.executable, "-m", "jobconsole.console", "serve", "--web", "--port", str(port)],
        env=dict(os.environ, JOBCONSOLE_DSN=dsn), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,760"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        time.sleep(2)
        driver.get(f"http://127.0.0.1:{port}/")
        time.sleep(5)
        driver.save_screenshot(str(HERE / "web.png"))
    finally:
        driver.quit()
        server.terminate()
        server.wait(20)


def main():
    home = None
    dsn = os.environ.get("JOBCONSOLE_DSN")
    if not dsn:
        home = Path(tempfile.mkdtemp(prefix="jobconsole-shots-"))
        dsn = embedded.ensure_running(home)
        api.init_db(dsn)
    monitor = subprocess.Popen(
        [sys.executable, "-m", "jobconsole.console", "monitor", "--domain", "demo", "--workers", "3"],
        env=dict(os.environ, JOBCONSOLE_DSN=dsn), stderr=subprocess.DEVNULL)
    try:
        queued = queue_mix(dsn, epochs=200, seconds_per_epoch=0.1)
        train = next(t for t in queued if t.info().operation == "train_model")
        time.sleep(4)
        asyncio.run(shoot(dsn, train.id))
        shoot_web(dsn)
    finally:
        monitor.send_signal(signal.SIGTERM)
        monitor.wait(30)
        db.close_pools()
        if home:
            embedded.stop(home)
    print("wrote", ", ".join(sorted(p.name for p in [*HERE.glob("*.svg"), *HERE.glob("*.png")])))


if __name__ == "__main__":
    main()
