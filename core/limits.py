"""How big a task's values may grow: inputs, outputs and tracebacks, and how much of
them a listing shows.

A value is read whole wherever a task is read whole (a worker's claim, get_task), so
one of a gigabyte would make every such read a gigabyte. The limit is refused where a
value is made, with one line that says how to raise it.
"""
import functools
import os

from .errors import BadInput
from .records import size_words

ENV_MAX_VALUE_MB = "JOBCONSOLE_MAX_VALUE_MB"
DEFAULT_MAX_VALUE_MB = 16.0
# PostgreSQL stores no field over 1 GB, and jsonb none over 255 MB: a limit above that
# would promise what the database then refuses with a less helpful message
HIGHEST_MAX_VALUE_MB = 1024.0
MB = 2**20

# What listings carry of an input or output: its first characters (the triggers of
# schema.sql keep them beside the value, so a listing never reads the value itself).
PREVIEW_CHARS = 400
# A stored traceback keeps its start (where it began) and its end (the exception).
MAX_TRACEBACK = 64 * 1024
TRACEBACK_HEAD = 16 * 1024


def max_value_bytes():
    """The largest input or output accepted, in bytes (of JSON text, or raw)."""
    return _parse(os.environ.get(ENV_MAX_VALUE_MB))


@functools.lru_cache(maxsize=8)
def _parse(text):
    if text is None or not text.strip():
        return int(DEFAULT_MAX_VALUE_MB * MB)
    try:
        mb = float(text)
    except ValueError:
        mb = None
    # `not (0 < mb <= ...)` is also true of NaN
    if mb is None or not 0 < mb <= HIGHEST_MAX_VALUE_MB:
        raise BadInput(f"{ENV_MAX_VALUE_MB} must be a number of megabytes above 0 and at "
                       f"most {HIGHEST_MAX_VALUE_MB:g}, got {text!r:.40}")
    return int(mb * MB)


def check_size(size, what):
    """BadInput if a value of `size` bytes is over the limit."""
    limit = max_value_bytes()
    if size > limit:
        raise BadInput(f"{what} is {size_words(size)}, over the limit of "
                       f"{size_words(limit)} ({ENV_MAX_VALUE_MB} raises it)")


def cap_traceback(text):
    """`text` at most MAX_TRACEBACK characters long: a traceback that quotes a huge
    value keeps its first lines and its last (the exception), and says what was cut."""
    if len(text) <= MAX_TRACEBACK:
        return text
    tail = MAX_TRACEBACK - TRACEBACK_HEAD
    cut = len(text) - MAX_TRACEBACK
    return (f"{text[:TRACEBACK_HEAD]}\n… {cut:,} characters cut …\n"
            f"{text[-tail:]}")
