-- The core engine: operations, monitors, workers, tasks and their logs.
-- One status column per object (no flags to combine), and the notifications the
-- processes and the console wake up on are sent by triggers, so that no code path
-- can change a task without telling its listeners.

create table jobconsole.operation (
    id serial primary key,
    name text not null,
    domain text not null default 'default',
    host text not null,
    path text not null,                 -- the module name or file the workers import
    timeout double precision,           -- seconds, default for its tasks
    retries integer not null default 0,
    registered timestamptz not null default now(),
    unique (name, domain, host)
);

create table jobconsole.monitor (
    id serial primary key,
    host text not null,
    domain text not null,
    pid integer not null,
    options jsonb not null default '{}',
    status text not null default 'running'
        check (status in ('running', 'stopping', 'stopped', 'dead')),
    stop_requested text check (stop_requested in ('graceful', 'now')),
    started timestamptz not null default now(),
    heartbeat timestamptz not null default now(),
    finished timestamptz
);
-- one live monitor per host and domain
create unique index monitor_live on jobconsole.monitor (host, domain)
    where status in ('running', 'stopping');

create table jobconsole.worker (
    id serial primary key,
    monitor_id integer not null references jobconsole.monitor (id) on delete cascade,
    host text not null,
    domain text not null,
    pid integer,
    status text not null default 'starting'
        check (status in ('starting', 'running', 'stopping', 'stopped', 'dead')),
    runs integer not null default 0,
    task_id bigint,                     -- the task its code runs now, when known
    mem_mb integer,
    shutdown_requested boolean not null default false,
    kill_requested boolean not null default false,
    reason text,                        -- why it ended
    started timestamptz not null default now(),
    heartbeat timestamptz not null default now(),
    finished timestamptz
);
create index worker_live on jobconsole.worker (monitor_id) where status in ('starting', 'running', 'stopping');

create table jobconsole.task (
    id bigserial primary key,
    operation text not null,
    domain text not null,
    host text,                          -- null: any host that has the operation
    status text not null default 'queued'
        check (status in ('waiting', 'queued', 'running', 'aborting', 'done', 'failed', 'aborted')),
    input jsonb,
    raw_input bytea,
    output jsonb,
    raw_output bytea,
    error_kind text check (error_kind in ('error', 'timeout', 'crash', 'abort', 'dependency')),
    traceback text,
    owner text,
    metadata jsonb,
    priority integer not null default 0,
    timeout double precision,
    attempt integer not null default 1,
    retries integer not null default 0,
    worker_id integer references jobconsole.worker (id) on delete set null,
    queued timestamptz not null default now(),
    claimed timestamptz,                -- taken by a worker (status 'running')
    started timestamptz,                -- its code began: null while it waits in the worker's hand
    finished timestamptz
);
-- the claim path: highest priority first, then oldest
create index task_claim on jobconsole.task (domain, priority desc, id) where status = 'queued';
create index task_busy on jobconsole.task (worker_id) where status in ('running', 'aborting');
create index task_status on jobconsole.task (status, id);

create table jobconsole.log (
    id bigserial primary key,
    task_id bigint not null references jobconsole.task (id) on delete cascade,
    ts timestamptz not null default now(),
    line text not null
);
create index log_task on jobconsole.log (task_id, id);

-- jobconsole_queued: payload is a domain that has new queued tasks (workers wake up).
-- jobconsole_task:   payload is a comma-separated list of ids of tasks whose status
--                    changed, or '*' when more than 50 changed at once (join, the
--                    console), or 'new' when tasks were inserted waiting; a task
--                    inserted queued is told on jobconsole_queued alone. A worker's
--                    statements send their own lists of ids, also for a running task
--                    whose progress or facet changed.
--                    Inserts are told so since migration 008, by a row trigger that
--                    replaces the insert trigger below, and since 009 a batch enqueue
--                    tells its own rows; before 008 an insert listed its new ids here.
create function jobconsole.notify_task_insert() returns trigger language plpgsql as $$
declare
    d text;
begin
    for d in select distinct domain from new_rows where status = 'queued' loop
        perform pg_notify('jobconsole_queued', d);
    end loop;
    perform pg_notify('jobconsole_task',
        (select case when count(*) > 50 then '*' else string_agg(id::text, ',') end from new_rows));
    return null;
end $$;

create function jobconsole.notify_task_update() returns trigger language plpgsql as $$
declare
    d text;
    ids text;
begin
    -- a worker's hot path sends its own, cheaper notification (core/worker.py)
    if current_setting('jobconsole.notifies_itself', true) = 'on' then
        return null;
    end if;
    for d in select distinct n.domain from new_rows n join old_rows o using (id)
             where n.status = 'queued' and o.status <> 'queued' loop
        perform pg_notify('jobconsole_queued', d);
    end loop;
    select case when count(*) > 50 then '*' else string_agg(n.id::text, ',') end into ids
        from new_rows n join old_rows o using (id) where n.status <> o.status;
    if ids is not null then
        perform pg_notify('jobconsole_task', ids);
    end if;
    return null;
end $$;

create trigger task_inserted after insert on jobconsole.task
    referencing new table as new_rows
    for each statement execute function jobconsole.notify_task_insert();
create trigger task_updated after update on jobconsole.task
    referencing new table as new_rows old table as old_rows
    for each statement execute function jobconsole.notify_task_update();

-- jobconsole_log: payload is a task id that has new log lines (log-task --follow).
create function jobconsole.notify_log() returns trigger language plpgsql as $$
declare
    t bigint;
begin
    for t in select distinct task_id from new_rows loop
        perform pg_notify('jobconsole_log', t::text);
    end loop;
    return null;
end $$;

create trigger log_inserted after insert on jobconsole.log
    referencing new table as new_rows
    for each statement execute function jobconsole.notify_log();

-- jobconsole_process: payload 'worker' or 'monitor' when one starts, stops or dies, or
-- a request is made to it (heartbeats alone do not notify: the console polls those).
create function jobconsole.notify_process() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_process', tg_table_name);
    return null;
end $$;

create trigger worker_changed after insert or delete or update of status, shutdown_requested, kill_requested
    on jobconsole.worker for each statement execute function jobconsole.notify_process();
create trigger monitor_changed after insert or delete or update of status, stop_requested
    on jobconsole.monitor for each statement execute function jobconsole.notify_process();
create trigger operation_changed after insert or delete or update
    on jobconsole.operation for each statement execute function jobconsole.notify_process();
