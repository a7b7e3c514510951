"""User keymaps: a TOML file that maps binding ids to keys, read at start.

    # ~/.config/jobconsole/keymap.toml (or `jobconsole --keymap FILE`)
    "tasks.abort" = "x"            # abort with x instead of a
    [app]
    quit = "ctrl+q"                # a table names the ids' first part

Every binding of the console has an id (`?` lists the keys; the ids are in the code's
BINDINGS). An unknown id, or a value that is not a key, is refused in one line at start.
"""
import os
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:     # Python 3.10
    import tomli as tomllib

from jobconsole.errors import BadInput


def default_path():
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "jobconsole" / "keymap.toml"


def load(path=None, known=()):
    """{binding id: keys} from `path` (or the default file, if it exists; {} if not)."""
    explicit = path is not None
    path = Path(path) if explicit else default_path()
    if not explicit and not path.exists():
        return {}
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise BadInput(f"cannot read the keymap {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"the keymap {path} is not TOML: {exc}") from None
    keymap = dict(_flatten(data))
    unknown = sorted(set(keymap) - set(known)) if known else []
    if unknown:
        raise BadInput(f"the keymap {path} names no binding {unknown[0]!r} (the ids are "
                       f"{', '.join(sorted(known))})")
    for binding_id, keys in keymap.items():
        if not isinstance(keys, str) or not keys.strip() or " " in keys.strip():
            raise BadInput(f"the keymap {path}: {binding_id} must be a key such as \"x\" "
                           f"or \"ctrl+x\" (several: \"x,y\"), got {keys!r:.40}")
    return {k: v.strip() for k, v in keymap.items()}


def _flatten(data, prefix=""):
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
