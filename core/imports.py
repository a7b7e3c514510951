"""Functions named by their import path ('module:qualname'): what travels to where a
function runs when its code does not (Tethys' DASK jobs, a BASIC job's function)."""
from __future__ import annotations

import importlib
from typing import Any

from .errors import BadInput


def import_path(function: Any, what: str = "function", where: str = "where it runs") -> str:
    """'module:qualname' of a function given as itself or as that text, checked to import
    here; BadInput for one that cannot be imported `where` it is to run."""
    if callable(function):
        module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
        if not module or module == "__main__" or "<" in name:
            raise BadInput(f"{what} {name or function!r} cannot be imported {where}: define "
                           "it at the top of an importable module")
        path = f"{module}:{name}"
    elif isinstance(function, str) and ":" in function:
        path = function
    else:
        raise BadInput(f"{what} must be a function or 'module:name', got {function!r:.60}")
    resolve(path, what)
    return path


def resolve(path: str, what: str = "function") -> Any:
    """The function at `path`, or BadInput saying why it cannot be had."""
    module, _, name = path.partition(":")
    try:
        target: Any = importlib.import_module(module)
        for part in name.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise BadInput(f"{what} {path!r} cannot be imported: {exc}") from None
    if not callable(target):
        raise BadInput(f"{what} {path!r} is not callable")
    return target
