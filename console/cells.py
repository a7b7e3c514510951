"""Table cells from untrusted values: sanitised, and always `Text`, never markup."""
from rich.text import Text

from jobconsole.api import sanitize

from .styles import STATUS_STYLES


def cell(value, style="", limit=120):
    if value is None:
        return Text("")
    text = Text(sanitize(str(value), limit=limit, keep_colours=False), no_wrap=True)
    # a span, not the Text's base style: it colours the text alone, never the padding a
    # table puts around it
    text.stylize(style)
    return text


def status(value, text=None):
    """A status, or `text` in that status's colour."""
    return cell(value if text is None else text, STATUS_STYLES.get(value, ""))


def rich_line(line):
    """A log line with its colours kept and every other escape removed."""
    return Text.from_ansi(sanitize(line), no_wrap=True)
