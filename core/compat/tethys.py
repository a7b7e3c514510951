"""Tethys' Jobs API on jobconsole: a job manager per app, jobs per user, read in
Tethys' words (docs/architecture.md; README "Coming from Tethys").

    from jobconsole.compat.tethys import JobManager
    job_manager = JobManager("my_first_app")
    job = job_manager.create_job(name="run_1", user=request.user, job_type="BASIC",
                                 operation="model", input={"years": 30})
    job.execute()

A job is a task (`job.id` is the task's id), so the console and the CLI show, log and
abort it; its owner is the user's name. What Tethys knows of a job beyond its task (the
app, the name, unique in the app, the type and the other attributes) is a row of
jobconsole.tethys_job. A saved job that is not executed is its task held 'waiting'.

Job types: BASIC runs a registered operation (`operation`, `input`) on jobconsole's own
workers, or an importable function (`operation` a function or 'module:name', called
with the input) on monitors started with --allow-shipped-code. SLURM submits an
executable to Slurm and DASK a function to a Dask cluster; the monitors track them
(engines/). WORKFLOW (Tethys' CONDORWORKFLOW) holds nodes (`WorkflowJobNode`), run in the
order of their parents through jobconsole's dependencies: a node that fails fails its
descendants, which never run. HTCondor's types are refused: HTCondor cannot be run
here, and untested code would be a stub.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg.errors import UniqueViolation

from .. import actions, checks, db, embedded, imports, tasks
from ..engines import dask, slurm
from ..errors import BadInput, Conflict, EngineUnavailable, NotFound
from ..records import FINISHED
from ..shipped import Shipped

__all__ = ["JobManager", "TethysJob", "TethysWorkflow", "WorkflowJobNode", "JOB_TYPES",
           "STATUSES", "job_status"]

JOB_TYPES = ("BASIC", "SLURM", "DASK", "WORKFLOW")
NODE_TYPES = ("BASIC", "SLURM", "DASK")
_REFUSED = ("CONDOR", "CONDORJOB", "CONDORWORKFLOW")
STATUSES = ("Pending", "Submitted", "Running", "Complete", "Error", "Aborted", "Various",
            "Various-Complete")
# a task's status in Tethys' words; 'waiting' is Pending until executed
_STATUS = {"queued": "Submitted", "running": "Running", "aborting": "Running",
           "done": "Complete", "failed": "Error", "aborted": "Aborted"}
_COMMON = ("description", "workspace", "extended_properties")
_TYPE_ATTRIBUTES = {"BASIC": ("operation", "input"),
                    "SLURM": ("executable", "arguments", "remote_input_files", "partition",
                              "num_cpus", "memory", "time_limit", "environment"),
                    "DASK": ("function", "args", "kwargs", "scheduler", "process_results",
                             "process_results_function"),
                    "WORKFLOW": ()}
_ORDERABLE = {"id": "j.id", "name": "j.name", "creation_time": "j.created",
              "execute_time": "j.executed", "job_type": "j.job_type",
              "description": "j.description", "user": "j.username"}
_FILTERABLE = {"name": "j.name", "job_type": "j.job_type", "description": "j.description",
               "workspace": "j.workspace"}

_ROW = ("select j.id, j.label, j.name, j.username, j.job_type, j.description, j.workspace, "
        "j.extended_properties, j.attributes, j.parents, " + (_STATE := (
            "j.created, j.executed, t.status, t.started, t.finished, "
            # a workflow's: its nodes' statuses, first start and last end
            "(select array_agg(nt.status) from jobconsole.tethys_job n "
            " join jobconsole.task nt on nt.id = n.task_id where n.workflow_id = j.id), "
            "(select min(nt.started) from jobconsole.tethys_job n "
            " join jobconsole.task nt on nt.id = n.task_id where n.workflow_id = j.id), "
            "(select max(nt.finished) from jobconsole.tethys_job n "
            " join jobconsole.task nt on nt.id = n.task_id where n.workflow_id = j.id) ")) +
        "from jobconsole.tethys_job j left join jobconsole.task t on t.id = j.task_id ")


def task_status(status: str) -> str:
    """A job's Tethys status from its task's status, once executed."""
    return _STATUS.get(status, "Submitted")


def _username(user: Any) -> str:
    name = user if isinstance(user, str) else getattr(user, "username", None)
    if not isinstance(name, str) or not name:
        raise BadInput(f"user must be a user with a username, or a name, got {user!r:.60}")
    return checks.text("user", name)


class JobManager:
    """The jobs of one app: `label` is the app's package name."""

    def __init__(self, label: str, dsn: Any = None) -> None:
        self.label = checks.text("label", label)
        self._dsn = checks.dsn(dsn)

    @property
    def dsn(self) -> str:
        return db.resolve(self._dsn)

    def create_job(self, name: str, user: Any, job_type: str, **attributes: Any) -> TethysJob:
        """A new job of this app, not saved yet: save() stores it, execute() runs it."""
        if not isinstance(job_type, str) or job_type.upper() not in JOB_TYPES:
            why = " (HTCondor cannot run here)" if str(job_type).upper() in _REFUSED else ""
            raise BadInput(f"unknown job type {job_type!r}{why}: one of {', '.join(JOB_TYPES)}")
        kind = TethysWorkflow if job_type.upper() == "WORKFLOW" else TethysJob
        job = kind(self, checks.text("name", name), _username(user), job_type.upper())
        for key, value in attributes.items():
            job.set_attribute(key, value)
        return job

    def list_jobs(self, user: Any = None, order_by: str = "id",
                  filters: dict[str, Any] | None = None) -> list[TethysJob]:
        """This app's jobs (that user's only, when given), ordered by `order_by` (a
        leading '-' reverses it); `filters` are fields and the values they must equal."""
        descending = isinstance(order_by, str) and order_by.startswith("-")
        key = order_by[1:] if descending else order_by
        if key not in _ORDERABLE:
            raise BadInput(f"cannot order jobs by {order_by!r} (one of {', '.join(_ORDERABLE)})")
        filters = dict(filters or {})
        unknown = sorted(set(filters) - set(_FILTERABLE) - {"status", "user"})
        if unknown:
            raise BadInput(f"unknown filter fields {', '.join(map(repr, unknown))} (one of "
                           f"{', '.join(sorted([*_FILTERABLE, 'status', 'user']))})")
        where, params = ["j.label = %s", "j.workflow_id is null"], [self.label]
        if user is not None:
            filters["user"] = _username(user)
        if "user" in filters:
            where.append("j.username = %s")
            params.append(_username(filters.pop("user")))
        status = filters.pop("status", None)
        for field, value in filters.items():
            where.append(f"{_FILTERABLE[field]} = %s")
            params.append(value)
        with db.pooled(self.dsn) as conn:
            rows = conn.execute(
                _ROW + f"where {' and '.join(where)} "
                f"order by {_ORDERABLE[key]} {'desc' if descending else 'asc'}, j.id",
                params).fetchall()
        jobs = [_job_of_row(self, row) for row in rows]
        return [j for j in jobs if status is None or j._status == status]

    def get_job(self, job_id: int, user: Any = None) -> TethysJob:
        """This app's job `job_id` (that user's, when given); NotFound otherwise, saying
        nothing of a job that is another app's or user's."""
        jid = checks.task_id(job_id)
        with db.pooled(self.dsn) as conn:
            row = conn.execute(_ROW + "where j.id = %s and j.label = %s", (jid, self.label)
                               ).fetchone()
        if row is None or (user is not None and row[3] != _username(user)):
            raise NotFound(f"no job {jid} in app {self.label!r}")
        return _job_of_row(self, row)

    def get_job_status_callback_url(self, request: Any, job_id: int) -> str:
        """`http://<host>/update-job-status/<job_id>/`, the host a request's (Django's
        get_host() and is_secure()) or a base URL's."""
        jid = checks.task_id(job_id)
        if isinstance(request, str):
            base = request.rstrip("/")
            if "://" not in base:
                base = "http://" + base
        elif callable(getattr(request, "get_host", None)):
            secure = getattr(request, "is_secure", None)
            scheme = "https" if callable(secure) and secure() else "http"
            base = f"{scheme}://{request.get_host()}"
        else:
            raise BadInput(f"request must be a request with get_host() or a base URL, got "
                           f"{request!r:.60}")
        return f"{base}/update-job-status/{jid}/"


class TethysJob:
    """A Tethys job. Its attributes are set with set_attribute (or as keywords of
    create_job) until it has been executed; `status` is read afresh each time."""

    def __init__(self, manager: JobManager, name: str, username: str, job_type: str) -> None:
        self._manager = manager
        self.id: int | None = None
        self.name = name
        self._username = username
        self.job_type = job_type
        self.description = ""
        self.workspace: str | None = None
        self.extended_properties: dict[str, Any] = {}
        self._attributes: dict[str, Any] = {}
        self._created: datetime | None = None
        self._executed: datetime | None = None
        self._status = "Pending"
        self._started: datetime | None = None
        self._finished: datetime | None = None

    def __repr__(self) -> str:
        return f"<TethysJob {self.id} {self.name!r} {self.job_type} {self._status}>"

    def _fill(self, row: tuple[Any, ...]) -> None:
        self.id = row[0]
        self.description, self.workspace, self.extended_properties = row[5], row[6], row[7]
        self._attributes = dict(row[8])
        self._read_state(row[10:])

    def _read_state(self, state: tuple[Any, ...]) -> None:
        self._created, self._executed, status, self._started, self._finished = state[:5]
        self._status = "Pending" if self._executed is None else task_status(status)

    # -- attributes ----------------------------------------------------------------------

    def set_attribute(self, name: str, value: Any) -> None:
        if name in _COMMON:
            setattr(self, name, value)
        elif name in _TYPE_ATTRIBUTES[self.job_type]:
            if self.job_type == "BASIC" and name == "operation" and callable(value):
                value = imports.import_path(value, name, "by the workers")
            elif self.job_type == "DASK" and callable(value):
                # stored, and run on the Dask workers, by its import path
                value = dask.import_path(value, name)
            self._attributes[name] = value
        else:
            raise BadInput(f"{self.job_type} jobs have no attribute {name!r} (they have "
                           f"{', '.join(_COMMON + _TYPE_ATTRIBUTES[self.job_type])})")

    def __getattr__(self, name: str) -> Any:
        # the type's own attributes read as attributes, as Tethys' do
        attributes = self.__dict__.get("_attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(name)

    @property
    def user(self) -> str:
        return self._username

    @property
    def label(self) -> str:
        return self._manager.label

    @property
    def creation_time(self) -> datetime | None:
        return self._created

    @property
    def execute_time(self) -> datetime | None:
        return self._executed

    @property
    def start_time(self) -> datetime | None:
        self._refresh()
        return self._started

    @property
    def completion_time(self) -> datetime | None:
        """When it ended Complete (None otherwise, as in Tethys)."""
        return self._finished if self.status == "Complete" else None

    @property
    def status(self) -> str:
        """Pending, Submitted, Running, Complete, Error or Aborted, as it is now."""
        self._refresh()
        return self._status

    def _refresh(self) -> None:
        if self.id is None:
            return
        with db.pooled(self._manager.dsn) as conn:
            row = conn.execute(
                f"select {_STATE} from jobconsole.tethys_job j "
                "left join jobconsole.task t on t.id = j.task_id where j.id = %s",
                (self.id,)).fetchone()
        if row is None:
            raise NotFound(f"job {self.id} was deleted")
        self._read_state(row)

    # -- life ----------------------------------------------------------------------------

    def save(self) -> TethysJob:
        """Store it (status Pending: shown, not run), or store its changed attributes."""
        self._check()
        with db.pooled(self._manager.dsn) as conn:
            try:
                with conn.transaction():
                    self._store_all(conn)
            except UniqueViolation:
                for job in self._all():
                    if job._created is None:     # not stored before this save
                        job.id = None
                raise Conflict(f"app {self.label!r} has a job named {self.name!r} "
                               "already") from None
        Path(self.workspace or ".").mkdir(parents=True, exist_ok=True)
        self._refresh()
        return self

    def _store_all(self, conn: Any) -> None:
        self._store(conn, parents=[])

    def _task(self) -> tuple[str, Any, str | None]:
        """(operation, input, engine) of its task."""
        if self.job_type == "SLURM":
            spec: dict[str, Any] = {key: self._attributes.get(key)
                                    for key in _TYPE_ATTRIBUTES["SLURM"]
                                    if key != "remote_input_files"}
            executable: str = self._attributes["executable"]
            if os.path.basename(executable) in self._inputs():
                executable = "./" + os.path.basename(executable)
            elif "/" in executable:
                executable = os.path.abspath(executable)
            arguments = spec["arguments"] or []
            spec.update(executable=executable, workspace=self.workspace, name=self.name,
                        arguments=shlex.split(arguments) if isinstance(arguments, str)
                        else [str(a) for a in arguments])
            return f"slurm:{os.path.basename(executable)}", spec, "slurm"
        if self.job_type == "DASK":
            attributes = self._attributes
            hook = attributes.get("process_results") or attributes.get("process_results_function")
            function = dask.import_path(attributes["function"])
            return f"dask:{function.rpartition(':')[2]}", {
                "function": function, "args": list(attributes.get("args") or ()),
                "kwargs": dict(attributes.get("kwargs") or {}),
                "process_results": dask.import_path(hook, "process_results") if hook else None,
                "scheduler": dask.scheduler_of(attributes)}, "dask"
        operation = self._attributes["operation"]
        if ":" in operation:    # an importable function, called with the input
            input = self._attributes.get("input")
            return (operation.rpartition(":")[2].rpartition(".")[2],
                    {"args": [] if input is None else [input]}, None)
        return operation, self._attributes.get("input"), None

    def _trampoline(self) -> Shipped | None:
        """A BASIC job's importable function, as a shipped function that imports it
        where it runs (so on monitors started with --allow-shipped-code only: an import
        path is code their operator did not register)."""
        operation = self._attributes.get("operation")
        if self.job_type != "BASIC" or not isinstance(operation, str) or ":" not in operation:
            return None
        module, _, name = operation.partition(":")
        short = name.rpartition(".")[2]
        code = (f"def {short}(*args, **kwargs):\n"
                "    import importlib\n"
                f"    target = importlib.import_module({module!r})\n"
                f"    for part in {name!r}.split('.'):\n"
                "        target = getattr(target, part)\n"
                "    return target(*args, **kwargs)\n")
        return Shipped(short, code, hashlib.sha256(f"{short}\n{code}".encode()).hexdigest())

    def _inputs(self) -> dict[str, str]:
        """{name in the workspace: path} of its remote_input_files."""
        files = self._attributes.get("remote_input_files") or []
        return {os.path.basename(os.fspath(f)): os.path.abspath(f) for f in files}

    def _all(self) -> list[TethysJob]:
        return [self]

    def _store(self, conn: Any, workflow: TethysWorkflow | None = None,
               parents: list[int] | None = None) -> None:
        """Insert or update its row (and, with `parents`, its parents' task ids, insert
        its task, held, if it has none yet)."""
        description = checks.text("description", self.description) if self.description else ""
        properties = tasks.to_json_text(self.extended_properties, "extended_properties")
        attributes = tasks.to_json_text(self._attributes, "the attributes")
        owner = workflow or self
        self.workspace = self.workspace or owner.workspace or str(
            embedded.home() / "tethys" / self.label / self._username)
        if self.id is not None:
            changed = conn.execute(
                "update jobconsole.tethys_job set description = %s, workspace = %s, "
                "extended_properties = %s, attributes = %s where id = %s returning executed",
                (description, self.workspace, properties, attributes, self.id)).fetchone()
            if changed is None:
                raise NotFound(f"job {self.id} was deleted")
            if changed[0] is None and parents is not None:   # not run yet: takes the input
                conn.execute("update jobconsole.task set input = %s::jsonb where id = %s",
                             (tasks.to_json_text(self._task()[1], "input"), self.id))
            return
        task_id = None
        if parents is not None:
            operation, input, engine = self._task()
            trampoline = self._trampoline()
            [task_id] = tasks.insert(
                conn, operation, [input], owner=self._username, depends_on=parents,
                workflow=workflow.jobconsole_workflow if workflow else None,
                metadata={"tethys": {"app": self.label, "name": self.name,
                                     "job_type": self.job_type}}, held=True, engine=engine,
                action_id=actions.store(conn, trampoline) if trampoline else None)
        self.id = conn.execute(
            "insert into jobconsole.tethys_job (id, task_id, workflow_id, label, name, "
            "username, job_type, description, workspace, extended_properties, attributes, "
            "parents) values (coalesce(%s, nextval('jobconsole.task_id_seq')), %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s) returning id",
            (task_id, task_id, workflow.id if workflow else None, self.label, self.name,
             self._username, self.job_type, description, self.workspace, properties,
             attributes, [p.name for p in getattr(self, "parents", [])])).fetchone()[0]

    def _check(self) -> None:
        if not isinstance(self.extended_properties, dict):
            raise BadInput("extended_properties must be a dict, got "
                           f"{type(self.extended_properties).__name__}")
        if self.workspace is not None and not isinstance(self.workspace, (str, os.PathLike)):
            raise BadInput(f"workspace must be a path, got {self.workspace!r:.60}")
        if self.workspace is not None:
            self.workspace = os.fspath(self.workspace)
        if self.job_type == "BASIC":
            if "operation" not in self._attributes:
                raise BadInput(f"BASIC job {self.name!r} needs an operation (a registered "
                               "operation's name, or a function or its 'module:name')")
            operation = self._attributes["operation"]
            if callable(operation) or ":" in checks.text("operation", operation):
                self._attributes["operation"] = imports.import_path(
                    operation, "operation", "by the workers")
        elif self.job_type == "SLURM":
            self._check_slurm()
        elif self.job_type == "DASK":
            if dask.missing():
                raise BadInput(f"DASK job {self.name!r}: {dask.missing()}")
            if not self._attributes.get("function"):
                raise BadInput(f"DASK job {self.name!r} needs a function (a function, or "
                               "'module:name')")
            args, kwargs = self._attributes.get("args"), self._attributes.get("kwargs")
            if args is not None and not isinstance(args, (list, tuple)):
                raise BadInput(f"args must be a list, got {args!r:.60}")
            if kwargs is not None and not isinstance(kwargs, dict):
                raise BadInput(f"kwargs must be a dict, got {kwargs!r:.60}")
            self._task()    # the function and the hook import, and a scheduler is named

    def _check_slurm(self) -> None:
        executable = self._attributes.get("executable")
        if not executable:
            raise BadInput(f"SLURM job {self.name!r} needs an executable")
        executable = os.fspath(checks.text("executable", os.fspath(executable)))
        self._attributes["executable"] = executable
        files = self._attributes.get("remote_input_files") or []
        if isinstance(files, (str, os.PathLike)) or not isinstance(files, (list, tuple)):
            raise BadInput(f"remote_input_files must be a list of paths, got {files!r:.60}")
        absent = [os.fspath(f) for f in files if not os.path.isfile(f)]
        if absent:
            raise BadInput(f"SLURM job {self.name!r}: no input file {absent[0]!r}")
        self._attributes["remote_input_files"] = [os.path.abspath(f) for f in files]
        if os.path.basename(executable) not in self._inputs() and not (
                os.path.isfile(executable) if "/" in executable else shutil.which(executable)):
            raise BadInput(f"SLURM job {self.name!r}: executable {executable!r} does not exist"
                           " (not a file, not on PATH, not among remote_input_files)")
        arguments = self._attributes.get("arguments")
        if arguments is not None and not isinstance(arguments, (str, list, tuple)):
            raise BadInput(f"arguments must be a string or a list, got {arguments!r:.60}")
        environment = self._attributes.get("environment")
        if environment is not None and not isinstance(environment, dict):
            raise BadInput(f"environment must be a dict, got {environment!r:.60}")
        slurm.check_spec(self._attributes)

    def execute(self) -> TethysJob:
        """Save it, then run it: its status becomes Submitted, then Running. A SLURM job
        whose controller does not answer stays Pending (EngineUnavailable)."""
        self.save()
        self._prepare()
        with db.pooled(self._manager.dsn) as conn:
            with conn.transaction():
                released = tasks.release_held(conn, self.id)
                if released:
                    conn.execute("update jobconsole.tethys_job set executed = now() "
                                 "where id = %s", (self.id,))
        if not released:
            raise Conflict(f"job {self.id} ({self.name}) was executed already")
        self._refresh()
        return self

    def _prepare(self) -> None:
        """What a job of another engine needs before it is released: a Dask scheduler
        that answers; for a SLURM job, a controller that answers (when this host has
        Slurm's commands: else the monitors' hosts are trusted) and its input files in
        its workspace."""
        if self.job_type == "DASK":
            try:
                dask.ping(dask.scheduler_of(self._attributes))
            except EngineUnavailable as exc:
                raise EngineUnavailable(f"job {self.id} ({self.name}) stays Pending: {exc}; "
                                        "execute it again once it answers") from None
        if self.job_type != "SLURM":
            return
        if shutil.which("scontrol"):
            try:
                slurm.ping()
            except EngineUnavailable as exc:
                raise EngineUnavailable(f"job {self.id} ({self.name}) stays Pending: {exc}; "
                                        "execute it again once Slurm answers") from None
        for name, path in self._inputs().items():
            target = os.path.join(self.workspace or ".", name)
            if os.path.abspath(target) != path:
                shutil.copy2(path, target)

    def stop(self) -> None:
        """Abort it: it never starts, or its worker (or Slurm job) is killed."""
        if self.id is not None:
            with db.pooled(self._manager.dsn) as conn:
                if tasks.status_of(conn, self.id) not in FINISHED:
                    tasks.abort(conn, self.id)

    def delete(self) -> None:
        """Stop it, then remove it and its log (its workspace stays)."""
        if self.id is None:
            return
        from ..task import Task
        self.stop()
        Task(self._manager.dsn, self.id).join(timeout=60)
        with db.pooled(self._manager.dsn) as conn:
            tasks.delete(conn, self.id)
        self.id = None

    def get_result(self) -> Any:
        """What it produced (the task's output), or None."""
        if self.id is None:
            return None
        with db.pooled(self._manager.dsn) as conn:
            task = tasks.get(conn, self.id)
        return task.output


class TethysWorkflow(TethysJob):
    """A WORKFLOW: nodes of any job type, run in the order of their parents. Its status
    is its nodes': one they share, else 'Various' while some still run and
    'Various-Complete' once all have ended."""

    def __init__(self, manager: JobManager, name: str, username: str, job_type: str) -> None:
        super().__init__(manager, name, username, job_type)
        self.nodes: list[WorkflowJobNode] = []
        self._statuses: list[str] = []

    @property
    def jobconsole_workflow(self) -> str:
        """The jobconsole workflow its nodes' tasks share (`show-workflow NAME`)."""
        return f"{self.label}/{self.name}"

    def _fill(self, row: tuple[Any, ...]) -> None:
        super()._fill(row)
        with db.pooled(self._manager.dsn) as conn:
            rows = conn.execute(_ROW + "where j.workflow_id = %s order by j.id",
                                (self.id,)).fetchall()
        by_name: dict[str, WorkflowJobNode] = {}
        for node_row in rows:
            node = WorkflowJobNode(node_row[2], self, node_row[4])
            node._fill(node_row)
            by_name[node.name] = node
        for node_row in rows:
            by_name[node_row[2]].parents = [by_name[p] for p in node_row[9]]

    def _read_state(self, state: tuple[Any, ...]) -> None:
        self._created, self._executed = state[:2]
        statuses = [task_status(s) for s in state[5] or []]
        self._started, self._finished = state[6], state[7]
        if self._executed is None:
            self._status = "Pending"
        elif len(set(statuses)) == 1:
            self._status = statuses[0]
        elif all(s in ("Complete", "Error", "Aborted") for s in statuses):
            self._status = "Various-Complete"
        else:
            self._status = "Various"

    def _check(self) -> None:
        super()._check()
        names = [n.name for n in self.nodes]
        if not names:
            raise BadInput(f"workflow {self.name!r} has no node")
        if len(set(names)) != len(names):
            raise BadInput(f"workflow {self.name!r} has two nodes named "
                           f"{sorted(n for n in names if names.count(n) > 1)[0]!r}")
        for node in self.nodes:
            node._check()
            for parent in node.parents:
                if parent not in self.nodes:
                    raise BadInput(f"node {node.name!r}'s parent {parent.name!r} is not a "
                                   f"node of workflow {self.name!r}")
        self._in_order()

    def _in_order(self) -> list[WorkflowJobNode]:
        """Its nodes, each after its parents; a cycle is refused."""
        done: list[WorkflowJobNode] = []
        left = list(self.nodes)
        while left:
            ready = [n for n in left if all(p in done for p in n.parents)]
            if not ready:
                raise BadInput(f"workflow {self.name!r}: the parents of "
                               f"{', '.join(repr(n.name) for n in left)} form a cycle")
            done += ready
            left = [n for n in left if n not in ready]
        return done

    def save(self) -> TethysWorkflow:
        """Store it and its nodes (Pending: shown, not run), each node's task held and
        depending on its parents'."""
        super().save()
        return self

    def _store_all(self, conn: Any) -> None:
        self._store(conn)
        for node in self._in_order():
            node._store(conn, self, parents=[p.task_id for p in node.parents
                                             if p.task_id is not None])

    def _all(self) -> list[TethysJob]:
        return [self, *self.nodes]

    def execute(self) -> TethysWorkflow:
        """Save it, then run it: the nodes without parents start, the others once their
        parents are Complete."""
        self.save()
        for node in self.nodes:
            node._prepare()
        with db.pooled(self._manager.dsn) as conn:
            with conn.transaction():
                executed = conn.execute(
                    "update jobconsole.tethys_job set executed = now() where (id = %s or "
                    "workflow_id = %s) and executed is null returning id",
                    (self.id, self.id)).fetchall()
                for node in self.nodes:
                    if not node.parents:
                        tasks.release_held(conn, node.task_id)
        if not executed:
            raise Conflict(f"job {self.id} ({self.name}) was executed already")
        self._refresh()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def delete(self) -> None:
        """Stop its nodes, then remove it and them."""
        if self.id is None:
            return
        from ..task import Task
        self.stop()
        for node in self.nodes:
            if node.task_id is not None:
                Task(self._manager.dsn, node.task_id).join(timeout=60)
        with db.pooled(self._manager.dsn) as conn:
            with conn.transaction():
                for node in self.nodes:
                    if node.task_id is not None:
                        tasks.delete(conn, node.task_id)
                conn.execute("delete from jobconsole.tethys_job where id = %s", (self.id,))
        self.id = None

    def get_result(self) -> dict[str, Any]:
        """{node name: what it produced}."""
        return {node.name: node.get_result() for node in self.nodes}


class WorkflowJobNode(TethysJob):
    """A node of a workflow: a job of its own type (BASIC) that runs once all its
    parents are Complete, and fails without running if one is not."""

    def __init__(self, name: str, workflow: TethysWorkflow, job_type: str,
                 **attributes: Any) -> None:
        if not isinstance(workflow, TethysWorkflow):
            raise BadInput(f"a node's workflow must be a WORKFLOW job, got {workflow!r:.60}")
        if not isinstance(job_type, str) or job_type.upper() not in NODE_TYPES:
            raise BadInput(f"unknown node type {job_type!r}: one of {', '.join(NODE_TYPES)}")
        super().__init__(workflow._manager, checks.text("name", name), workflow.user,
                         job_type.upper())
        self.workflow = workflow
        self.parents: list[WorkflowJobNode] = []
        for key, value in attributes.items():
            self.set_attribute(key, value)
        workflow.nodes.append(self)

    def add_parent(self, parent: WorkflowJobNode) -> None:
        if not isinstance(parent, WorkflowJobNode) or parent.workflow is not self.workflow:
            raise BadInput(f"a parent of node {self.name!r} must be a node of its workflow")
        if parent not in self.parents:
            self.parents.append(parent)

    @property
    def task_id(self) -> int | None:
        return self.id


def _job_of_row(manager: JobManager, row: tuple[Any, ...]) -> TethysJob:
    kind = TethysWorkflow if row[4] == "WORKFLOW" else TethysJob
    job = kind(manager, row[2], row[3], row[4])
    job._fill(row)
    return job


def job_status(dsn: Any, job_id: int) -> str | None:
    """Job `job_id`'s Tethys status, read afresh from its engine, whatever app it is of;
    None when there is no such job. The status callback (`jobconsole serve`) and the
    console's task screen call it: a caller can only make jobconsole look, never set a
    status. The engine of BASIC jobs and workflows is jobconsole itself, whose rows are
    the state. A SLURM job that has not ended is asked of Slurm, and its tracker is
    woken to record what Slurm says."""
    with db.pooled(db.resolve(checks.dsn(dsn))) as conn:
        row = conn.execute(_ROW + "where j.id = %s", (job_id,)).fetchone()
        engine = conn.execute(
            "select e.engine, e.external_id from jobconsole.engine_job e "
            "where e.task_id = %s and not e.ended and e.external_id is not null",
            (job_id,)).fetchone()
        if engine is not None:
            conn.execute("select pg_notify('jobconsole_queued', %s)", (engine[0],))
    if row is None:
        return None
    status = _job_of_row(JobManager(row[1], dsn), row)._status
    if engine is not None and engine[0] == "slurm" and not slurm.missing():
        with contextlib.suppress(EngineUnavailable):
            said = slurm.states({engine[1]: None}).get(engine[1])
            if said is not None:
                status = task_status((said.status or "failed") if said.phase == "ended"
                                     else said.phase)
    return status
