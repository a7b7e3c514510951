"""Operations: Python functions registered with the `@task` decorator.

The decorator only records the function in this process. `register_operations` then
imports a file or module and writes what it declared to the database, so that the
monitors of a host and domain know what their workers can run and where to import it.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from . import checks
from .errors import BadInput
from .records import RETRYABLE

DEFAULT_DOMAIN = "default"


@dataclass(frozen=True)
class Operation:
    name: str
    func: object
    domain: str = DEFAULT_DOMAIN
    timeout: float | None = None
    retries: int = 0
    backoff: float = 0.0
    retry_on: tuple = ("error", "timeout", "crash")

    @property
    def module(self):
        return self.func.__module__


# name -> {domain -> Operation}: one name may exist in several domains
_operations: dict[str, dict[str, Operation]] = {}


# Ten years: longer is a mistake (an infinite or NaN one above all), and PostgreSQL's
# intervals and timestamps end: such a value, stored, would break every monitor
# that computes a deadline from it.
MAX_SECONDS = 10 * 365 * 86400
MAX_RETRIES = 1000


def check_seconds(value, what, *, zero_ok=True):
    """`value` if it is a number of seconds jobconsole can wait, else BadInput."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok) \
            or value > MAX_SECONDS:
        least = "0 seconds or more" if zero_ok else "positive"
        raise BadInput(f"{what} must be {least}, and at most ten years "
                       f"({MAX_SECONDS:,} s), got {value!r}")
    return value


def check_retries(retries, backoff, retry_on):
    """BadInput unless these make a retry policy; returns retry_on as a tuple."""
    if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool)
                                or not 0 <= retries <= MAX_RETRIES):
        raise BadInput(f"retries must be a whole number from 0 to {MAX_RETRIES}, "
                       f"got {retries!r}")
    check_seconds(backoff, "backoff")
    if retry_on is None:
        return None
    retry_on = (retry_on,) if isinstance(retry_on, str) \
        else tuple(checks.iterable("retry_on", retry_on, "error kinds"))
    wrong = [k for k in retry_on if k not in RETRYABLE]
    if wrong:
        raise BadInput(f"cannot retry on {', '.join(map(repr, wrong))}: only on "
                       f"{', '.join(RETRYABLE)} (an abort never retries)")
    return retry_on


Op = TypeVar("Op", bound=Callable[..., Any])


@overload
def task(func: Op) -> Op: ...


@overload
def task(func: None = None, *, domain: str = DEFAULT_DOMAIN, timeout: float | None = None,
         retries: int = 0, backoff: float = 0.0, retry_on: Sequence[str] | str = RETRYABLE,
         name: str | None = None) -> Callable[[Op], Op]: ...


def task(func: Op | None = None, *, domain: str = DEFAULT_DOMAIN, timeout: float | None = None,
         retries: int = 0, backoff: float = 0.0, retry_on: Sequence[str] | str = RETRYABLE,
         name: str | None = None) -> Op | Callable[[Op], Op]:
    """Declare an operation: `@task`, or `@task(domain=..., timeout=seconds, retries=N,
    backoff=seconds, retry_on=("error", "timeout", "crash"))`.

    A failed task is retried up to `retries` times when its error kind is in
    `retry_on`, after `backoff` seconds, doubled at each attempt. The function takes
    one argument, the running task, and is returned unchanged.
    """
    if func is not None and not callable(func):
        # @task("report") reads well but passes the name where the function goes
        raise BadInput(f"@task takes a function, or options by keyword (@task(name=...)), "
                       f"got {func!r:.60}")
    check_seconds(timeout, "timeout", zero_ok=False)
    kinds = check_retries(retries, backoff, retry_on)
    if kinds is None:       # retry_on=None: the default kinds
        kinds = RETRYABLE

    for label, value in (("domain", domain), ("retries", retries), ("backoff", backoff)):
        if value is None:   # every operation has them: its table's columns are not null
            raise BadInput(f"an operation's {label} cannot be None")
    for label, text in (("name", name), ("domain", domain)):
        if text is not None and (not isinstance(text, str) or not text
                                 or not text.isprintable()):
            # they are shown in terminals: no control characters, escapes or new lines
            raise BadInput(f"an operation's {label} must be printable text, got {text!r}")

    def register(f: Op) -> Op:
        op = Operation(name or f.__name__, f, domain, timeout, retries, backoff, kinds)
        _operations.setdefault(op.name, {})[domain] = op
        return f

    return register(func) if func is not None else register


def lookup(name, domain):
    return _operations.get(name, {}).get(domain)


def declared_in(module_name):
    """Operations whose functions live in the module `module_name`."""
    return [op for by_domain in _operations.values() for op in by_domain.values()
            if op.module == module_name]


def load(path):
    """Import a file (path ending in .py) or a dotted module; returns the module name.

    An import error in user code is reported as BadInput with its last frame, not as
    a traceback from jobconsole.
    """
    try:
        if path.endswith(".py") or os.sep in path:
            file = os.path.abspath(path)
            if not os.path.isfile(file):
                raise BadInput(f"no such file: {path}")
            module_name = "jobconsole_ops_" + _slug(file)
            if module_name not in sys.modules:
                spec = importlib.util.spec_from_file_location(module_name, file)
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[module_name]
                    raise
            return module_name
        importlib.import_module(path)
        return path
    except BadInput:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and path.startswith(exc.name):
            raise BadInput(f"no module named {path!r} (not importable from here)") from None
        raise BadInput(f"cannot import {path}: {_describe(exc)}") from None
    except Exception as exc:
        raise BadInput(f"cannot import {path}: {_describe(exc)}") from None


def source_of(module_name):
    """The path a worker imports to get a module back: its file, or its dotted name."""
    if module_name.startswith("jobconsole_ops_"):
        return inspect.getfile(sys.modules[module_name])
    return module_name


def _slug(file):
    import hashlib
    return hashlib.sha1(file.encode()).hexdigest()[:12]


def _describe(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
