"""Functions for tests/unit/test_shipped.py to ship, as a user's file holds them."""
import functools
import os


def addition(a, b):
    return a + b


def uses_its_own_imports(path):
    import os.path
    return os.path.basename(path)


def uses_the_module(path):
    return os.path.basename(path)


def decorated_by(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


@functools.lru_cache
def decorated(n):
    return n * 2


def fails(n):
    x = n + 1
    raise ValueError(f"no {x}")


def make_closure(k):
    def inner(x):
        return x * k
    return inner


class Thing:
    def method(self):
        return 1


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)
