"""The demo's work: what `jobconsole demo` and the screenshots queue, in one place."""
from jobconsole import api


def queue_mix(dsn, epochs=60, seconds_per_epoch=1.0):
    """Register the demo operations and queue a realistic mix; returns the Tasks.

    Quick successes, a failure with a traceback, a long task that logs steadily, one
    that would run forever, a workflow whose middle step fails, and two cron schedules
    (preparing them again updates them: running the demo twice adds none).
    """
    api.register_operations(dsn, f"{__package__}.demo_ops")
    queued = [api.schedule(dsn, "resize_images", {"count": n}, owner="alice",
                           workflow="catalogue") for n in (5, 12, 30)]
    failing = api.schedule(dsn, "import_invoices", {"file": "invoices-2026-11.csv"},
                           owner="bob", workflow="month-end")
    queued += [failing, api.schedule(dsn, "build_report", {"name": "month-end"}, owner="bob",
                                     workflow="month-end", depends_on=[failing])]
    queued.append(api.schedule(dsn, "train_model",
                               {"epochs": epochs, "seconds_per_epoch": seconds_per_epoch},
                               owner="carol", metadata={"dataset": "churn", "model": "gbm"}))
    queued.append(api.schedule(dsn, "watch_queue", {}, owner="ops", priority=-1))
    api.prepare(dsn, "resize_images", "*/30 * * * * *", {"count": 3}, owner="alice")
    api.prepare(dsn, "build_report", "0 6 * * mon-fri", {"name": "daily"}, owner="bob")
    return queued
