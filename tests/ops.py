"""Operations the tests schedule. Registered from this file into each test database."""
import logging
import os
import subprocess
import sys
import time

from jobconsole import api


@api.task
def double(task):
    with task.capturelogs(std=True):
        print("doubling", task.input)
        task.save_output(task.input * 2)


@api.task
def fail(task):
    raise ValueError(f"bad input: {task.input!r}")


@api.task
def sleep(task):
    """Sleeps input seconds; writes its pid first so tests can watch the process."""
    with task.capturelogs(std=True):
        print(f"pid {os.getpid()}", flush=True)
        time.sleep(task.input)
        task.save_output("slept")


@api.task
def spawner(task):
    """Starts a child process that ignores SIGTERM and logs its pid, then waits."""
    with task.capturelogs(std=True):
        child = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60"])
        print(f"pid {child.pid}", flush=True)
        time.sleep(60)


@api.task(timeout=0.5)
def overdue(task):
    time.sleep(30)


@api.task
def chatty(task):
    """Logs each line of its input through print, stderr and logging."""
    with task.capturelogs(std=True):
        for line in task.input["lines"]:
            print(line.replace("<NUL>", "\x00"))  # jsonb input cannot hold NUL itself
        print("to stderr", file=sys.stderr)
        logging.getLogger("chatty").info("through logging")
        logging.getLogger("chatty").debug("not at INFO level")
        sys.stdout.write("no newline at the end")


@api.task
def ticker(task):
    """Prints a line every 0.1 s, input times."""
    with task.capturelogs(std=True):
        for i in range(task.input):
            print(f"tick {i}", flush=True)
            time.sleep(0.1)


@api.task
def record(task):
    """Appends its input and pid to the file named in the metadata (a task runs once),
    then sleeps for the metadata's "sleep" seconds, if any."""
    with open(task.metadata["file"], "a") as f:
        f.write(f"{task.input} {os.getpid()}\n")
    time.sleep(task.metadata.get("sleep", 0))


@api.task
def rawecho(task):
    task.save_output(bytes(task.input)[::-1], raw=True)


_leak = []


@api.task
def hog(task):
    """Leaks input MB of memory, as a worker that caches too much would."""
    block = bytearray(task.input * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    _leak.append(block)


@api.task(domain="other")
def elsewhere(task):
    task.save_output("ran in other")


UNDECODABLE = b"caf\xe9.csv".decode("utf-8", "surrogateescape")   # a latin-1 file name


@api.task
def undecodable_log(task):
    with task.capturelogs(std=True):
        print("processing", UNDECODABLE)
        task.save_output("ok")


@api.task
def undecodable_output(task):
    task.save_output(UNDECODABLE)


@api.task(retries=2)
def flaky(task):
    """Fails until its third attempt."""
    if task.attempt < 3:
        raise RuntimeError(f"attempt {task.attempt} failed")
    task.save_output(f"worked at attempt {task.attempt}")


@api.task(retries=1)
def crash_first(task):
    """Its first attempt hangs (for a test to kill its worker); the second succeeds."""
    with task.capturelogs(std=True):
        if task.attempt == 1:
            print(f"pid {os.getpid()}", flush=True)
            time.sleep(60)
        task.save_output("second attempt")


@api.task
def steps(task):
    """Reports progress through input steps, 0.2 s each, and publishes a facet."""
    for i in range(task.input):
        time.sleep(0.2)
        task.progress(i + 1, task.input, f"step {i + 1} of {task.input}")
        task.update_facet(last_step=i + 1)
    task.update_facet(summary="all steps done")


# What a hostile or careless task writes: the window title, the clipboard (OSC 52),
# a cleared screen, a bell. None of it may reach the operator's terminal as written.
RAW = "\x1b]0;pwned title\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H\x07"


@api.task
def raw_output(task):
    """Writes RAW + input through every door of the process: print, stderr, file
    descriptor 1 itself, a child process; with no capturelogs."""
    print(f"print {RAW}{task.input}")
    print(f"stderr {RAW}{task.input}", file=sys.stderr)
    os.write(1, f"fd1 {RAW}{task.input}\n".encode())
    subprocess.run(["sh", "-c", f"printf 'child %s\\n' \"$1\" >&2", "sh",
                    f"{RAW}{task.input}"], check=True)
    logging.getLogger("raw").warning("logging %s", task.input)
    sys.stdout.write(f"partial {task.input}")   # no newline, not flushed


@api.task
def raw_bytes(task):
    """Writes invalid UTF-8 and a line far longer than any log line is kept."""
    os.write(1, b"bad \xff\xfe bytes\n")
    os.write(2, b"x" * (task.input or 100000) + b"\n")
    os.write(1, b"after\n")


@api.task
def raw_teed(task):
    with task.capturelogs(std=True, tee=True):
        print(f"teed {RAW}{task.input}")


@api.task
def raw_c(task):
    """Writes through C's stdio, which buffers a pipe in blocks, as C extensions do."""
    import ctypes
    ctypes.CDLL(None).printf(b"from C %s\n", str(task.input).encode())
