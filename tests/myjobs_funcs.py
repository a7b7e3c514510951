"""Plain functions for myjobs' schedule, self-contained as myjobs requires: they travel
as their source, so each imports what it uses."""


def addition(a, b):
    return a + b


def divide(a, b):
    return a / b


def sleep_then(seconds, value=None):
    import time
    time.sleep(seconds)
    return value


def crash():
    import os
    os._exit(3)


def talk(n):
    import logging
    print(f"printed {n}")
    logging.getLogger("talk").warning("logged %s", n)
    return n


def my_dependencies(job):
    return job.dependencies
