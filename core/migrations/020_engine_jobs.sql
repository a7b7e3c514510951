-- Tasks that run on another engine (Slurm, Dask: jobconsole.compat.tethys), which no
-- worker claims: they wait in the engine's own domain ('slurm', 'dask'), and the one
-- monitor that holds the engine's tracking lock submits them, follows them and records
-- their end. What is to run is the task's input; this row is what the engine said.
create table jobconsole.engine_job (
    task_id bigint primary key references jobconsole.task (id) on delete cascade,
    engine text not null,
    -- set before the engine is asked to run it: a tracker that takes over asks the
    -- engine whether a submission it finds begun but unrecorded happened
    submitting timestamptz,
    external_id text,                   -- the engine's id for it (Slurm's job id)
    state text,                         -- the engine's last word on it (RUNNING, ...)
    exit_code integer,
    out_pos bigint not null default 0,  -- how much of its stdout and stderr files is
    err_pos bigint not null default 0,  -- in its log already
    ended boolean not null default false
);
create index engine_job_live on jobconsole.engine_job (engine) where not ended;
