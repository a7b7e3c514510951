"""The operations `jobconsole demo` registers: a small, realistic mix of work."""
import logging
import random
import time

from jobconsole import api

log = logging.getLogger("demo")


@api.task(domain="demo")
def resize_images(task):
    """A quick success."""
    with task.capturelogs(std=True):
        count = task.input["count"]
        for i in range(count):
            print(f"resized image {i + 1}/{count}")
            task.progress(i + 1, count, f"image {i + 1}")
            time.sleep(0.05)
        task.save_output({"resized": count})


@api.task(domain="demo")
def import_invoices(task):
    """Fails with a traceback: a malformed row."""
    with task.capturelogs(std=True):
        log.info("reading %s", task.input["file"])
        rows = [{"id": 1, "amount": "12.50"}, {"id": 2, "amount": "twelve"}]
        total = 0.0
        for row in rows:
            log.info("row %s", row["id"])
            total += float(row["amount"])
        task.save_output({"total": total})


@api.task(domain="demo")
def train_model(task):
    """A long task that logs steadily."""
    with task.capturelogs(std=True):
        loss = 1.0
        for epoch in range(1, task.input["epochs"] + 1):
            loss *= random.uniform(0.85, 0.97)
            log.info("epoch %d: loss %.4f", epoch, loss)
            task.progress(epoch, task.input["epochs"], f"epoch {epoch}: loss {loss:.4f}")
            task.update_facet(loss=round(loss, 4))
            time.sleep(task.input.get("seconds_per_epoch", 1.0))
        task.save_output({"loss": round(loss, 4)})


@api.task(domain="demo")
def watch_queue(task):
    """Would run forever: the task to abort."""
    with task.capturelogs(std=True):
        n = 0
        while True:
            n += 1
            print(f"still watching ({n})", flush=True)
            time.sleep(2)


@api.task(domain="demo")
def build_report(task):
    """A quick step that comes after others in a workflow."""
    with task.capturelogs(std=True):
        print(f"building the {task.input['name']} report")
        time.sleep(0.5)
        task.save_output({"pages": 12})
