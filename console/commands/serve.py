"""Serve the HTTP endpoints other systems call (Tethys' status callback)."""
import sys

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.pass_obj
def serve(dsn, host, port):
    """Serve GET/POST /update-job-status/<job_id>/ (Tethys' status callback) until
    Ctrl-C or SIGTERM."""
    # here, not at the top: every other command would pay for aiohttp's import
    from .. import serve as server
    print(f"jobconsole: serving on http://{host}:{port}/", file=sys.stderr, flush=True)
    server.serve(dsn, host, port)


COMMANDS = [serve]
