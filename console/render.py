"""Plain-text rendering for the CLI: aligned tables, durations, JSON for scripts.

Every untrusted string goes through the core's sanitize before it reaches the terminal.
"""
import json
import math
from datetime import datetime, timezone

from jobconsole.api import sanitize
from jobconsole.records import size_text


def table(headers, rows, max_width=60):
    """Left-aligned columns separated by two spaces; cells cut at max_width."""
    cells = [[_cell(c, max_width) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def _cell(value, max_width):
    text = "" if value is None else sanitize(str(value), keep_colours=False)
    return text if len(text) <= max_width else text[:max_width - 1] + "…"


def now():
    """The clock every relative time is shown against (the snapshot tests freeze it)."""
    return datetime.now(timezone.utc)


def when(moment):
    """A timestamp in local time, without the date when it is today."""
    if moment is None:
        return ""
    local = moment.astimezone()
    if local.date() == now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def duration(start, end=None):
    if start is None:
        return ""
    seconds = ((end or now()) - start).total_seconds()
    return seconds_text(seconds)


def countdown(moment):
    """'in 5m00s' until a future moment ('in 0ms' once it has passed)."""
    return f"in {seconds_text(max(0.0, (moment - now()).total_seconds()))}"


def seconds_text(seconds):
    if seconds < 0.9995:        # what rounds to 1000 ms is shown as 1.0s
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    whole = round(seconds)      # rounded before it is split: 179.6 s is 3m00s, not 2m60s
    if whole < 7200:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def upto(seconds):
    """'≤2.0s' for the upper bound of a histogram bucket ('' for none)."""
    return "" if seconds is None else f"≤{seconds_text(seconds)}"


def bar(percent, width=5, label=None):
    """'███░░  63%' for a use in percent (over 100%, on several cores: full); `label`
    in place of the figure."""
    if percent is None:
        return ""
    filled = max(0, min(width, round(percent / 100 * width)))
    return "█" * filled + "░" * (width - filled) + (
        f" {percent:3.0f}%" if label is None else f" {label}")


def id_list(ids, most=5):
    """'4, 5, 6, 7, 8…': the first ids of a set an action is about to act on."""
    return ", ".join(map(str, ids[:most])) + ("…" if len(ids) > most else "")


def progress(info, width=10):
    """'██████    60%' for a task with a total, '42' without one, '' with no progress."""
    if info.progress_done is None:
        return ""
    fraction = info.progress
    if fraction is None:
        return f"{info.progress_done:g}"
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:3.0f}%"


def to_json(value):
    """Strict JSON (a float column of an old row may hold NaN or infinity: null)."""
    return json.dumps(_finite(value), indent=2, default=_json_default, ensure_ascii=False,
                      allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return size_text(value)
    raise TypeError(type(value).__name__)


def input_text(record):
    """A record's input as compact JSON, or its raw input's size."""
    return value_text(record.input, record.raw_input)


def value_text(value, raw=None):
    """A JSON value as compact text, or the size of the raw bytes stored instead."""
    if raw is not None:
        return size_text(raw)
    return json.dumps(value, ensure_ascii=False)


def is_raw_preview(preview):
    """A preview of raw bytes ('<N bytes>'): no JSON text begins with '<'."""
    return preview.startswith("<")


def is_cut(preview):
    """A preview cut short: no whole JSON text ends with '…' (a string ends with '"')."""
    return preview.endswith("…")


def last_task(schedule):
    """'#42 done' for the task a schedule's last firing made."""
    if schedule.last_task_id is None:
        return ""
    return f"#{schedule.last_task_id} {schedule.last_task_status or 'deleted'}"


def missed(schedule):
    """The missed-run policy, and how many fire times got no task of their own."""
    if not schedule.missed_count:
        return schedule.missed
    return f"{schedule.missed}, {schedule.missed_count} missed"
