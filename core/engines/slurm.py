"""Slurm, driven through its commands: sbatch to submit, squeue and sacct to follow,
scancel to stop. pyslurm does not build against the Slurm of Debian 12 (22.05), and the
commands are Slurm's stable interface.

Following many jobs costs one squeue call per poll, whatever their number; sacct is
asked only about jobs squeue no longer knows (it forgets a job MinJobAge after its end,
300 s by default), once per poll for all of them. `sacct -c` reads the job completion
log, so it works without slurmdbd (JobCompType=jobcomp/filetxt).

A job is named `jobconsole-<task id>`: a tracker that took over from one that died
between sbatch and recording the job's id finds the job by that name instead of
submitting it twice.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import Any

from ..errors import BadInput, EngineUnavailable
from . import State, files

NAME = "slurm"
TIMEOUT = 30.0      # seconds a command may take: slurmctld retries for a while when busy

# Slurm's job states in jobconsole's words: where a job is, and how an ended one ended
QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING",
          "SUSPENDED", "STOPPED", "SIGNALING", "SPECIAL_EXIT", "STAGE_OUT"}
RUNNING = {"RUNNING", "COMPLETING"}
ENDED = {"COMPLETED": ("done", None), "CANCELLED": ("aborted", "abort"),
         "FAILED": ("failed", "error"), "TIMEOUT": ("failed", "timeout"),
         "DEADLINE": ("failed", "timeout"), "OUT_OF_MEMORY": ("failed", "crash"),
         "NODE_FAIL": ("failed", "crash"), "BOOT_FAIL": ("failed", "crash"),
         "PREEMPTED": ("failed", "crash"), "REVOKED": ("failed", "crash")}
# what sbatch or squeue say when the controller is away: try again later
_AWAY = re.compile(r"unable to contact slurm controller|socket timed out|connection refused|"
                   r"communication connection failure|slurm_receive_msg", re.I)


def _state(word: str, job_id: str, exit_code: int | None = None) -> State:
    if word not in ENDED:
        return State(word, "running" if word in RUNNING else "queued")
    status, kind = ENDED[word]
    if status == "done" and exit_code:
        status, kind = "failed", "error"
    code = "" if exit_code is None else f", exit code {exit_code}"
    return State(word, "ended", status, kind,
                 output={"slurm_job_id": job_id, "state": word, "exit_code": exit_code},
                 exit_code=exit_code, message=None if status == "done" else f"Slurm job {job_id} ended {word}{code}")


def missing() -> str | None:
    """Why Slurm cannot be driven from this host, or None."""
    absent = [c for c in ("sbatch", "squeue", "sacct", "scancel") if not shutil.which(c)]
    return f"Slurm's commands are not installed ({', '.join(absent)})" if absent else None


def _run(args: list[str], stdin: str | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, text=True,
                              timeout=TIMEOUT, env=env)
    except FileNotFoundError:
        raise EngineUnavailable(f"{args[0]} is not installed on this host") from None
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(f"{args[0]} got no answer from Slurm in {TIMEOUT:g} s") \
            from None


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.removeprefix("sbatch: error: ").strip()
             for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    return "; ".join(lines) or f"exit code {proc.returncode}"


def ping() -> None:
    """EngineUnavailable unless the controller answers."""
    proc = _run(["scontrol", "ping"])
    if proc.returncode or "DOWN" in proc.stdout:
        raise EngineUnavailable(f"the Slurm controller does not answer ({_said(proc)})")


def job_name(task_id: int) -> str:
    return f"jobconsole-{task_id}"


def log_paths(task_id: int, spec: dict[str, Any]) -> tuple[str, str]:
    """Where the job's stdout and stderr go: its workspace."""
    base = os.path.join(spec["workspace"], f"slurm-{task_id}")
    return base + ".out", base + ".err"


def new_output(task_id: int, spec: dict[str, Any], positions: tuple[int, int],
               ended: bool) -> tuple[list[str], list[str], tuple[int, int]]:
    """What the job wrote to its stdout and stderr files since `positions`."""
    return files.read_new(log_paths(task_id, spec), positions, ended)


def options(spec: dict[str, Any]) -> list[str]:
    """sbatch's options for the resources a job asks for."""
    args = []
    if spec.get("partition"):
        args.append(f"--partition={spec['partition']}")
    if spec.get("num_cpus"):
        args.append(f"--cpus-per-task={int(spec['num_cpus'])}")
    if spec.get("memory"):
        memory = spec["memory"]
        args.append(f"--mem={memory}" if isinstance(memory, str) else f"--mem={int(memory)}M")
    if spec.get("time_limit"):
        limit = spec["time_limit"]
        args.append(f"--time={limit}" if isinstance(limit, str) else f"--time={int(limit)}")
    return args


def check_spec(spec: dict[str, Any]) -> None:
    """BadInput for resources sbatch would refuse whatever the cluster."""
    for key in ("num_cpus", "memory", "time_limit"):
        value = spec.get(key)
        if value is None or isinstance(value, str) and re.fullmatch(r"[\w:.-]+", value):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise BadInput(f"{key} must be a positive whole number"
                           f"{' or a Slurm value such as 4G or 1:30:00' if key != 'num_cpus' else ''}"
                           f", got {value!r:.40}")
    for key, value in (spec.get("environment") or {}).items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) \
                or not isinstance(value, (str, int, float)):
            raise BadInput(f"environment must map variable names to text, got {key!r:.40}")


def submit(task_id: int, spec: dict[str, Any]) -> str:
    """Submit the job; its Slurm job id. EngineUnavailable when the controller is away
    (nothing was submitted), BadInput with sbatch's words when Slurm refuses it."""
    out, err = log_paths(task_id, spec)
    command = " ".join(shlex.quote(str(a)) for a in [spec["executable"], *spec["arguments"]])
    script = f"#!/bin/sh\nexec {command}\n"
    env = dict(os.environ, **{k: str(v) for k, v in (spec.get("environment") or {}).items()})
    proc = _run(["sbatch", "--parsable", f"--job-name={job_name(task_id)}",
                 f"--chdir={spec['workspace']}", f"--output={out}", f"--error={err}",
                 *options(spec)], stdin=script, env=env)
    if proc.returncode:
        if _AWAY.search(proc.stderr):
            raise EngineUnavailable(f"sbatch: {_said(proc)}")
        raise BadInput(f"sbatch refused the job: {_said(proc)}")
    return proc.stdout.strip().split(";")[0]


def where(spec: dict[str, Any]) -> str:
    """Which controller a job is submitted to: there is one."""
    return NAME


def find(task_id: int, spec: dict[str, Any]) -> str | None:
    """The id of the job submitted for this task, if Slurm has one."""
    proc = _run(["squeue", "--noheader", "--all", "--states=all", "--format=%i",
                 f"--name={job_name(task_id)}"])
    if proc.returncode:
        raise EngineUnavailable(f"squeue: {_said(proc)}")
    ids = proc.stdout.split()
    if not ids:
        proc = _run(["sacct", "-c", "--parsable2", "--noheader", "--format=JobID",
                     f"--name={job_name(task_id)}"])
        ids = proc.stdout.split() if not proc.returncode else []
    return ids[-1] if ids else None


def states(jobs: dict[str, Any]) -> dict[str, State]:
    """What Slurm says of these jobs (their ids, and specs): one squeue call, and one
    sacct call for those it no longer knows. A job neither knows is left out.
    EngineUnavailable when the controller is away."""
    job_ids = list(jobs)
    if not job_ids:
        return {}
    proc = _run(["squeue", "--noheader", "--all", "--states=all", "--format=%i|%T",
                 f"--jobs={','.join(job_ids)}"])
    if proc.returncode and "Invalid job id" not in proc.stderr:
        raise EngineUnavailable(f"squeue: {_said(proc)}")
    found: dict[str, State] = {}
    for line in proc.stdout.splitlines():
        jid, _, word = line.partition("|")
        jid = jid.strip()
        found[jid] = _state(word.strip().split()[0] if word.strip() else "PENDING", jid)
    # an ended job's exit code, and the jobs squeue has forgotten, are sacct's
    ask = [j for j in job_ids if j not in found or found[j].phase == "ended"]
    if ask:
        proc = _run(["sacct", "-c", "--parsable2", "--noheader",
                     "--format=JobID,State,ExitCode", f"--jobs={','.join(ask)}"])
        for line in proc.stdout.splitlines() if not proc.returncode else []:
            jid, word, code = (line.split("|") + ["", ""])[:3]
            word = word.split()[0] if word else ""
            if jid in ask and word in ENDED:
                found[jid] = _state(word, jid,
                                    int(code.split(":")[0]) if code[:1].isdigit() else None)
    return {j: s for j, s in found.items() if j in job_ids}


def cancel(jobs: dict[str, Any]) -> None:
    if jobs:
        _run(["scancel", *jobs])
