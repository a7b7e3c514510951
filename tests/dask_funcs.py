"""Functions Tethys' DASK jobs run in the tests: importable by the Dask workers."""
import os
import sys
import time


def add(a, b):
    print(f"adding {a} and {b}")
    print("a warning", file=sys.stderr)
    return a + b


def dollars(result):
    return f"${result}"


def fail(message):
    raise ValueError(message)


def sleep_marked(seconds, marker):
    """Writes its Dask worker's pid and its own to `marker`, then sleeps."""
    with open(marker, "w") as f:
        f.write(f"{os.getppid()} {os.getpid()}")
    print("sleeping", flush=True)
    time.sleep(seconds)
    return "woke"
