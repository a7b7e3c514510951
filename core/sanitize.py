"""Make untrusted text (task logs, inputs, errors, names) safe to show on a terminal.

Stored text stays as written; this is applied on the way to a screen. Colours (SGR
sequences) survive, because people colour their logs on purpose; every other escape
sequence (cursor moves, screen clears, OSC titles and hyperlinks, ...), every other
control character and the bidirectional formatting characters are removed, and the
length is bounded so that one runaway line cannot swamp a terminal.
"""
import re

MAX_CHARS = 4000

# CSI sequences, OSC/DCS/APC/PM/SOS strings, and two-byte ESC sequences, in 7-bit form.
_ESCAPE = re.compile(
    r"""
    \x1b\[ [0-?]* [ -/]* [@-~]                      # CSI ... final byte
  | \x1b[\]PX^_] .*? (?:\x07|\x1b\\|\x9c|$)        # OSC, DCS, SOS, PM, APC ... terminator
  | \x1b [ -/]* [0-~]                               # ESC (intermediates) final
  | \x1b                                            # a lone ESC
    """,
    re.VERBOSE | re.DOTALL,
)
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
# C0 controls but tab, DEL, and C1 controls (8-bit CSI/OSC included); and the bidi
# embeddings, overrides and isolates, which reorder what follows them on the screen
# (a log line could show a command other than the one it holds, CVE-2021-42574).
# ESC is not here: after _ESCAPE, only the kept SGR sequences hold one.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text, limit=MAX_CHARS, keep_colours=True):
    """`text` without escape sequences (but colours) and control characters, bounded."""
    if text is None:
        return ""
    text = str(text)

    def keep(match):
        seq = match.group(0)
        return seq if keep_colours and _SGR.fullmatch(seq) else ""

    text = _ESCAPE.sub(keep, text)
    text = _CONTROL.sub(_visible, text)
    if len(text) > limit:
        # a cut through a colour sequence would leave its tail visible
        text = re.sub(r"\x1b[^m]*$", "", text[:limit]) + f"… [{len(text) - limit} more characters]"
    return text


def _visible(match):
    # Carriage returns and newlines inside one line become spaces: a single line must
    # stay a single line. Other controls vanish.
    return " " if match.group(0) in "\r\n" else ""
