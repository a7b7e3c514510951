"""Start the console itself (monitors are started by the core: api.start_detached_monitor)."""
from jobconsole import api


def open_console(dsn, **options):
    """Run the console in this terminal until it quits."""
    from .app import JobConsole
    # a bad DSN or schema: one line here, not a broken screen
    dsn = api.check_database(dsn)
    JobConsole(dsn, **options).run()
