"""Colours of the status vocabulary, shared by every view."""
STATUS_STYLES = {
    "waiting": "magenta",
    "queued": "cyan",
    "running": "bold yellow",
    "aborting": "bold red",
    "done": "green",
    "failed": "bold red",
    "aborted": "dim red",
    # processes
    "starting": "cyan",
    "stopping": "yellow",
    "stopped": "dim",
    "dead": "bold red",
}
