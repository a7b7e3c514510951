"""Functions that travel as their source (myjobs' way): packed where they are scheduled,
loaded where they run, which need not be able to import them.

Only a self-contained function can travel: its source is all that arrives, so it may
use builtins, its arguments and what it imports itself, and nothing of the module it
came from. `pack` refuses, in one line, whatever would fail only later on a worker.
"""
from __future__ import annotations

import ast
import builtins
import dis
import hashlib
import inspect
import linecache
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from .errors import BadInput


@dataclass(frozen=True)
class Shipped:
    name: str
    code: str       # the function's definition alone, decorators dropped
    key: str        # the hash of name and code: one stored action per distinct function


def pack(func: Any) -> Shipped:
    """The function's name and source, or BadInput saying why it cannot travel."""
    what = getattr(func, "__qualname__", None) or repr(func)
    if inspect.ismethod(func):
        raise BadInput(f"{what} is a bound method, which cannot travel: ship a plain "
                       "function defined at the top of a file")
    if not inspect.isfunction(func):
        raise BadInput(f"{what!r:.80} is not a Python function, so it cannot travel "
                       "(a builtin or a callable object has no source to ship)")
    if func.__name__ == "<lambda>":
        raise BadInput("a lambda cannot travel: define a function with def in a file")
    if inspect.iscoroutinefunction(func) or inspect.isgeneratorfunction(func):
        raise BadInput(f"{what} is a coroutine or generator function: ship a plain function")
    if func.__closure__:
        names = ", ".join(func.__code__.co_freevars)
        raise BadInput(f"{what} is a closure (it uses {names} of the function around it), "
                       "which cannot travel: pass them as arguments")
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise BadInput(f"{what}: its source cannot be read (defined in a REPL?): define it "
                       "in a file") from None
    # its own name is defined where it runs: a recursive function travels
    used = sorted(_globals_read(func.__code__) & set(func.__globals__)
                  - set(vars(builtins)) - {func.__name__})
    if used:
        raise BadInput(f"{what} uses names of its module ({', '.join(used)}), which do not "
                       "travel with it: import them inside the function, or pass them "
                       "as arguments")
    code = _definition(source, func.__name__)
    digest = hashlib.sha256(f"{func.__name__}\n{code}".encode()).hexdigest()
    return Shipped(func.__name__, code, digest)


def _globals_read(code: CodeType) -> set[str]:
    """The global names `code` reads, its nested functions' and comprehensions' too
    (attribute names, which the code object lists beside them, are not reads)."""
    names = {i.argval for i in dis.get_instructions(code)
             if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _globals_read(const)
    return names


def _definition(source: str, name: str) -> str:
    """The `def` of `name` in `source`, from its def line on: its decorators are names
    of its module, which would not exist where it runs."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        raise BadInput(f"{name}: its source does not parse on its own") from None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.name != name:
        raise BadInput(f"{name}: its source is not a plain def of it")
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1:])


_loaded: dict[str, Callable[..., Any]] = {}


def load(key: str, name: str, code: str) -> Callable[..., Any]:
    """The function `code` defines, compiled once per process and key. Its source is
    registered with linecache, so that its tracebacks quote its lines."""
    func = _loaded.get(key)
    if func is None:
        filename = f"<shipped {name} {key[:12]}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        namespace: dict[str, Any] = {"__name__": f"jobconsole.shipped.{name}"}
        exec(compile(code, filename, "exec"), namespace)
        func = namespace[name]
        _loaded[key] = func
    return func
