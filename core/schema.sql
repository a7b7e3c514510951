-- jobconsole schema, version 26
--
-- The whole schema as it is today. `init_db` builds a new database from this file in
-- one go; a database an older jobconsole made is brought up to date by the numbered
-- files in migrations/, which stay as they were released. tests/test_schema.py checks
-- that both give the same schema, so a change is made twice: as a new migration, and
-- here, with the version on the first line raised to that migration's number. Column
-- order is part of a table: a column a migration adds goes last here too.
--
-- The schema jobconsole itself and its table `version` (one row per version applied)
-- are made by schema.py, which needs them to tell which version a database is at.
--
-- Each process and task has one status column, never flags to combine, so that its
-- state is a single value to test and to constrain. Workers, monitors, join() and the
-- console sleep until a notification wakes them; triggers send these, so that no code
-- path can change a task without telling its listeners. The hot paths (a worker's
-- statements, a batch enqueue) announce their own changes more cheaply than a trigger
-- can, and the triggers then stand aside.
--
-- The channels, and their payloads:
--   jobconsole_queued    a domain that has newly queued tasks: its workers wake up
--                        (the console listens too).
--   jobconsole_task      a comma-separated list of ids of tasks whose status changed,
--                        or '*' when more than 50 changed in one statement (join, the
--                        console); 'new' when tasks were inserted waiting. A task
--                        inserted queued is told on jobconsole_queued only. A worker
--                        also sends the id of a running task whose progress or facet
--                        it wrote.
--   jobconsole_log       the id of a task that has new log lines (log-task --follow).
--   jobconsole_process   'worker' or 'monitor' when one starts, stops or dies, or is
--                        sent a request; 'operation' when operations change.
--   jobconsole_schedule  '': the schedules changed.
--   jobconsole_payload   a queue of the pgsql transport that has new payloads, or ''
--                        when daemons published what they see of other transports.
--   jobconsole_payload_taken  a queue a payload was taken off (the Queues view).
-- The code sends two more itself: jobconsole_control (a request to a monitor or
-- worker) and jobconsole_operations (a domain whose operations were registered, so
-- its idle workers load them).


-- What a host's workers can run. An operation is per host, as each host imports its
-- code from its own path; its timeout and retry settings are the defaults its tasks
-- copy when they are scheduled.
create table jobconsole.operation (
    id serial primary key,
    name text not null,
    domain text not null default 'default',
    host text not null,
    path text not null,                 -- the module name or file the workers import
    timeout double precision,           -- seconds
    retries integer not null default 0,
    registered timestamptz not null default now(),
    backoff double precision not null default 0,
    retry_on text[] not null default '{error,timeout,crash}',
    unique (name, domain, host)
);

-- A monitor runs and supervises the workers of one domain on one host. Requests to it
-- are columns of its row, so they reach it on whatever host it runs; its heartbeat
-- lets any other monitor find it dead (stale) and clean up after it.
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
    finished timestamptz,
    -- its process's start time as its host read it (epoch seconds): a pid is reused,
    -- so a monitor checking the rows of its own host compares both
    pid_started double precision,
    -- monitors of one host and domain run side by side when their labels differ
    label text not null default '',
    -- its host's CPU and memory use, read as it beats (the overview's figures per host)
    cpu_percent real,
    mem_percent real,
    -- its host's memory in MB: the Workers view's memory bars are of --max-mem, or of this
    mem_total_mb integer
);
-- Two live monitors of one host, domain and label would fight over its workers: the
-- database refuses the second. Ended ones stay as history.
create unique index monitor_live on jobconsole.monitor (host, domain, label)
    where status in ('running', 'stopping');

-- A worker is one process of a monitor, which alone starts, kills and reaps it.
create table jobconsole.worker (
    id serial primary key,
    monitor_id integer not null references jobconsole.monitor (id) on delete cascade,
    host text not null,
    domain text not null,
    pid integer,                        -- null until the process has started
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
    finished timestamptz,
    pid_started double precision,       -- as the monitor's: which process the pid is
    -- a child process of its monitor, a window of a tmux session, or the very process
    -- that asked for it (myjobs' worker_inprocess_start)
    kind text not null default 'subprocess' check (kind in ('subprocess', 'tmux', 'inprocess')),
    -- its process's CPU use since its last heartbeat, in percent of one core
    cpu_percent real
);
-- a monitor's loop looks up its live workers at every tick
create index worker_live on jobconsole.worker (monitor_id) where status in ('starting', 'running', 'stopping');

-- A cron rule that makes monitors create tasks. Any monitor may fire the due schedules:
-- a row lock (SKIP LOCKED) keeps two from handling one schedule at once, and the task
-- table's unique (schedule_id, fire_time) makes "one task per fire time" a fact the
-- database enforces, whatever the monitors' clocks.
create table jobconsole.schedule (
    id serial primary key,
    key text not null unique,           -- a hash of what identifies it: preparing it again replaces it
    operation text not null,
    domain text not null,
    host text,                          -- the tasks' host; null: any host
    rule text not null,                 -- cron: five fields, or six with seconds first
    timezone text not null,             -- a rule's hours and days are local to a zone
    input jsonb,
    raw_input bytea,
    owner text,
    metadata jsonb,
    priority integer not null default 0,
    missed text not null default 'once' check (missed in ('once', 'skip')),
    paused boolean not null default false,
    next_fire timestamptz not null,     -- the first fire time not handled yet
    last_fire timestamptz,              -- the last fire time that made a task
    last_task_id bigint,
    missed_count bigint not null default 0,   -- fire times that got no task of their own
    last_missed timestamptz,
    last_error text,                    -- why its last firing made no task
    created timestamptz not null default now()
);
-- what a monitor asks at every tick; a paused schedule is never due
create index schedule_due on jobconsole.schedule (next_fire) where not paused;

-- myjobs' actions: functions shipped as their source (core/shipped.py), each stored
-- once under the hash of its name and code, and referred to by the tasks that run it.
-- Such a task's operation is the function's name, registered nowhere: only workers
-- whose monitor allows shipped code claim it (core/transitions.py, CLAIM).
create table jobconsole.action (
    id serial primary key,
    key text not null unique,
    name text not null,
    code text not null,
    created timestamptz not null default now()
);

-- A task is one run of an operation (with its retries). 'waiting' is a task that no
-- worker may take yet: its start time has not come, or a task it depends on has not
-- finished. A worker claims a 'queued' one ('running'); an abort or timeout asked while
-- it runs is 'aborting' until its code has stopped.
create table jobconsole.task (
    id bigserial primary key,
    operation text not null,
    domain text not null,
    host text,                          -- null: any host that has the operation
    status text not null default 'queued'
        check (status in ('waiting', 'queued', 'running', 'aborting', 'done', 'failed', 'aborted')),
    input jsonb,                        -- JSON the console can show; bytes go to raw_input
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
    finished timestamptz,
    run_at timestamptz,                 -- a delayed start: 'waiting' until then
    backoff double precision not null default 0,
    retry_on text[] not null default '{error,timeout,crash}',
    progress_done double precision,     -- progress and facet: what a running task says of
    progress_total double precision,    -- itself, written by its worker a few times a
    progress_message text,              -- second at most
    facet jsonb,
    has_dependents boolean not null default false,   -- see release_dependents, below
    schedule_id integer references jobconsole.schedule (id) on delete set null,
    fire_time timestamptz,              -- the schedule's fire time that made it
    workflow text,                      -- a group of tasks reported as one
    face text,                          -- the seed face that made it: 'rexjob' (a job)
    action_id integer references jobconsole.action (id),  -- shipped source it runs (myjobs)
    -- what listings show of the values, kept by the triggers measure_input and
    -- measure_output: the values themselves may be megabytes, read whole when read
    input_size bigint,                  -- bytes of its JSON text as stored, or of raw_input
    input_head text,                    -- the first 400 characters of that JSON text
    output_size bigint,
    output_head text
)
-- Vacuumed after 20,000 dead tuples plus 2% of the table, not the stock 20% of a table
-- that keeps its history: each task leaves three dead versions, and each claim walks
-- past the claim index's entries of the tasks claimed since the last vacuum (migration
-- 015 says why, and why fillfactor stays at 100).
with (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 20000);
-- the claim: highest priority first, then oldest; only queued tasks are claimed
create index task_claim on jobconsole.task (domain, priority desc, id) where status = 'queued';
-- a worker's or a dead worker's tasks, found without scanning finished ones
create index task_busy on jobconsole.task (worker_id) where status in ('running', 'aborting');
-- listings by status, newest first
create index task_status on jobconsole.task (status, id);
-- the waiting tasks whose start time has come, which monitors queue
create index task_due on jobconsole.task (run_at) where status = 'waiting';
-- one task per fire time of a schedule, whichever monitor fires it
create unique index task_fire on jobconsole.task (schedule_id, fire_time)
    where fire_time is not null;
-- a workflow's aggregate status, read from its tasks' statuses
create index task_workflow on jobconsole.task (workflow, status) where workflow is not null;

-- What tasks printed: a row for each line, so that log-task --follow reads only the
-- lines after the last one it has.
create table jobconsole.log (
    id bigserial primary key,
    task_id bigint not null references jobconsole.task (id) on delete cascade,
    ts timestamptz not null default now(),
    line text not null,
    -- 'stdout:INFO', 'stderr:ERROR' or '<logger>:<LEVEL>' when the worker knows (rework's
    -- names: log-task --prefix); null for what reached file descriptors 1 and 2
    source text
);
create index log_task on jobconsole.log (task_id, id);

-- A task that depends on others waits until they are all done.
create table jobconsole.dependency (
    task_id bigint not null references jobconsole.task (id) on delete cascade,
    depends_on bigint not null references jobconsole.task (id) on delete cascade,
    primary key (task_id, depends_on)
);
-- a finishing task finds its dependents
create index dependency_parent on jobconsole.dependency (depends_on);


-- Inserting a task is a hot path: a row trigger announces it with one pg_notify and
-- counts it (jobconsole.task_count, below), with no transition table, whose tuplestore
-- and queries would cost more than the insert.
-- PostgreSQL folds the identical notifications of a transaction into one, so a batch
-- still wakes each domain's workers once. A waiting task, which no worker may take
-- yet, only tells the console that there are new tasks.
create function jobconsole.notify_task_insert() returns trigger language plpgsql as $$
begin
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    values (coalesce(new.owner, ''), new.domain, new.status, pg_backend_pid() % 32, 1)
    on conflict (owner, domain, status, shard) do update set n = c.n + 1;
    if new.status = 'queued' then
        perform pg_notify('jobconsole_queued', new.domain);
    else
        perform pg_notify('jobconsole_task', 'new');
    end if;
    return null;
end $$;

-- A batch enqueue (core/tasks.py) announces its rows itself, once per domain: a
-- trigger call for each row cost more than inserting a small task. It says so by
-- setting jobconsole.insert_announced, for its transaction, to its own start time,
-- statement_timestamp(); the WHEN clause, which PostgreSQL evaluates without calling
-- the function, then skips its rows. A later statement of the same transaction, sent
-- by the client after it, starts at another time, so its rows are announced here
-- again, as are those of every other insert (one task, a relaunch, SQL typed by hand).
create trigger task_inserted after insert on jobconsole.task
    for each row
    when (current_setting('jobconsole.insert_announced', true)
          is distinct from statement_timestamp()::text)
    execute function jobconsole.notify_task_insert();

-- A change of tasks, made by anyone (a worker, a monitor, an abort, SQL typed by hand),
-- is handled once per statement, from transition tables, by one function (one call per
-- statement: a worker makes two statements per task). It
-- 1. counts the changes of status, owner or domain (jobconsole.task_count, below);
-- 2. counts the tasks the statement ended, per minute (jobconsole.task_minute, below),
--    unless a worker's step counts them itself: it says so in jobconsole.counted for
--    the length of the statement, and writes its counts once a second (core/stats.py,
--    Tally);
-- 3. announces the changes: a monitor that queues a thousand due tasks wakes each
--    domain once and sends one list of ids. A worker's session sets
--    jobconsole.notifies_itself: its statements run once per task and announce their
--    own changes with a plain pg_notify, which costs far less.
create function jobconsole.task_changed() returns trigger language plpgsql as $$
declare
    d text;
    ids text;
begin
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    select k.o, k.d, k.s, pg_backend_pid() % 32, sum(k.x)
    from old_rows o join new_rows n using (id)
    cross join lateral (values (coalesce(o.owner, ''), o.domain, o.status, -1),
                               (coalesce(n.owner, ''), n.domain, n.status, 1)) k(o, d, s, x)
    where (n.status, n.domain, n.owner) is distinct from (o.status, o.domain, o.owner)
    group by 1, 2, 3 having sum(k.x) <> 0
    on conflict (owner, domain, status, shard) do update set n = c.n + excluded.n;

    if current_setting('jobconsole.counted', true) is distinct from statement_timestamp()::text
       and exists (select from new_rows where status in ('done', 'failed', 'aborted')) then
        insert into jobconsole.task_minute as m (minute, domain, operation, shard, done,
                                                 failed, aborted, seconds, hist)
        select date_trunc('minute', now()), n.domain, n.operation, 0,
               count(*) filter (where n.status = 'done'),
               count(*) filter (where n.status = 'failed'),
               count(*) filter (where n.status = 'aborted'),
               coalesce(sum(extract(epoch from n.finished - n.started)), 0),
               jobconsole.histogram(array_agg(extract(epoch from n.finished - n.started)::float8))
        from new_rows n join old_rows o using (id)
        where n.status in ('done', 'failed', 'aborted')
          and o.status not in ('done', 'failed', 'aborted')
        group by n.domain, n.operation
        on conflict (minute, domain, operation, shard) do update set
            done = m.done + excluded.done, failed = m.failed + excluded.failed,
            aborted = m.aborted + excluded.aborted, seconds = m.seconds + excluded.seconds,
            hist = jobconsole.hist_add(m.hist, excluded.hist);
    end if;

    if current_setting('jobconsole.notifies_itself', true) is distinct from 'on' then
        for d in select distinct n.domain from new_rows n join old_rows o using (id)
                 where n.status = 'queued' and o.status <> 'queued' loop
            perform pg_notify('jobconsole_queued', d);
        end loop;
        select case when count(*) > 50 then '*' else string_agg(n.id::text, ',') end into ids
            from new_rows n join old_rows o using (id) where n.status <> o.status;
        if ids is not null then
            perform pg_notify('jobconsole_task', ids);
        end if;
    end if;
    return null;
end $$;

create trigger task_updated after update on jobconsole.task
    referencing new table as new_rows old table as old_rows
    for each statement execute function jobconsole.task_changed();

-- A task that fails with a kind it may retry on goes back to the queue, 'waiting'
-- through a back-off that doubles at each attempt, until it has had retries + 1
-- attempts. A row trigger does it, so that whoever fails the task (its worker on an
-- error or timeout, a monitor on a crash or a timeout by kill) retries it alike. An
-- abort never retries. Being a BEFORE trigger, it turns the failure into a retry
-- before the row is written: the task's dependents never see it fail. The wait is
-- capped at ten years, the most a back-off itself may be (core/registry.py,
-- MAX_SECONDS): the doubling could otherwise overflow an interval, and fail the
-- statement that failed the task (a worker's step, a monitor's tick) again and again.
-- A worker's session announces its own changes, the status trigger standing aside, so
-- there this trigger announces a retry queued at once, to wake the domain's workers.
create function jobconsole.retry() returns trigger language plpgsql as $$
declare
    wait double precision := least(new.backoff * 2 ^ least(new.attempt - 1, 40), 315360000);
begin
    -- the failed attempt, before its times are cleared (jobconsole.attempt)
    insert into jobconsole.attempt (task_id, attempt, worker_id, started, finished,
                                    error_kind, traceback)
    values (new.id, new.attempt, new.worker_id, new.started, coalesce(new.finished, now()),
            new.error_kind, right(new.traceback, 4000))
    on conflict (task_id, attempt) do nothing;
    new.status := case when wait > 0 then 'waiting' else 'queued' end;
    new.run_at := case when wait > 0 then now() + make_interval(secs => wait) end;
    new.attempt := new.attempt + 1;
    new.worker_id := null;
    new.claimed := null;
    new.started := null;
    new.finished := null;
    new.output := null;
    new.raw_output := null;
    new.output_size := null;
    new.output_head := null;
    -- error_kind and traceback stay: they tell why the last attempt failed
    if new.status = 'queued' and current_setting('jobconsole.notifies_itself', true) = 'on' then
        perform pg_notify('jobconsole_queued', new.domain);
    end if;
    return new;
end $$;

create trigger task_retry before update of status on jobconsole.task
    for each row
    when (new.status = 'failed' and old.status <> 'failed' and new.attempt <= new.retries
          and new.error_kind = any(new.retry_on))
    execute function jobconsole.retry();

-- A listing shows a value's size and first characters, measured here when the value
-- is written: a trigger of UPDATE OF fires only on the statements that set it, so a
-- claim or a progress report never reads it. Not generated columns: the task table
-- has a BEFORE UPDATE trigger (retry), and PostgreSQL then recomputes every generated
-- column on every update of a row (0.17 s a row for a 50 MB input).
create function jobconsole.measure_input() returns trigger language plpgsql as $$
declare
    whole text;
begin
    if new.raw_input is not null then
        new.input_size := octet_length(new.raw_input);
        new.input_head := null;
    elsif new.input is not null then
        whole := new.input::text;
        new.input_size := octet_length(whole);
        new.input_head := left(whole, 400);
    else
        new.input_size := null;
        new.input_head := null;
    end if;
    return new;
end $$;

create function jobconsole.measure_output() returns trigger language plpgsql as $$
declare
    whole text;
begin
    if new.raw_output is not null then
        new.output_size := octet_length(new.raw_output);
        new.output_head := null;
    elsif new.output is not null then
        whole := new.output::text;
        new.output_size := octet_length(whole);
        new.output_head := left(whole, 400);
    else
        new.output_size := null;
        new.output_head := null;
    end if;
    return new;
end $$;

create trigger task_input_measured before insert or update of input, raw_input
    on jobconsole.task for each row execute function jobconsole.measure_input();
-- most tasks are inserted without an output, and many finish without one; a retry
-- (above) clears the measure with the output
create trigger task_output_measured before insert or update of output, raw_output
    on jobconsole.task for each row
    when (new.output is not null or new.raw_output is not null or new.output_size is not null)
    execute function jobconsole.measure_output();

-- When a task with dependents finishes, whoever finished it: if it is done, those whose
-- dependencies are now all done (and whose start time has come) are queued at once;
-- if it failed for good or was aborted, they fail as 'dependency' without running,
-- which in turn fails theirs, down the chain (announced here on a worker's session,
-- where the status trigger stands aside). has_dependents keeps every other task's
-- finish, the hot path, from calling the function at all.
create function jobconsole.release_dependents() returns trigger language plpgsql as $$
declare
    d text;
    failed text;
begin
    if new.status = 'done' then
        -- announced here: on a worker's session the status trigger stands aside
        for d in with released as (
                     update jobconsole.task t set status = 'queued'
                     where t.status = 'waiting'
                       and t.id in (select x.task_id from jobconsole.dependency x
                                    where x.depends_on = new.id)
                       and (t.run_at is null or t.run_at <= now())
                       and not exists (select from jobconsole.dependency x
                                       join jobconsole.task p on p.id = x.depends_on
                                       where x.task_id = t.id and p.status <> 'done')
                     returning t.domain)
                 select distinct domain from released loop
            perform pg_notify('jobconsole_queued', d);
        end loop;
    else
        with gone as (
            update jobconsole.task t set status = 'failed', error_kind = 'dependency',
                traceback = format('task %s, which it depends on, was %s', new.id, new.status),
                finished = now()
            where t.status = 'waiting'
              and t.id in (select d.task_id from jobconsole.dependency d where d.depends_on = new.id)
            returning t.id)
        select string_agg(id::text, ',') into failed from gone;
        if failed is not null and current_setting('jobconsole.notifies_itself', true) = 'on' then
            perform pg_notify('jobconsole_task', failed);
        end if;
    end if;
    return null;
end $$;

create trigger task_release_dependents after update of status on jobconsole.task
    for each row
    when (new.has_dependents and new.status in ('done', 'failed', 'aborted')
          and old.status is distinct from new.status)
    execute function jobconsole.release_dependents();

-- Told once per statement and task: a worker writes its log lines in batches.
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

-- A process starts, stops or dies, or a request is made to it. Heartbeats alone do
-- not notify, or every listener would wake several times a second: the console polls
-- them instead.
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

-- The console's schedules view re-reads on any change; schedules change rarely.
create function jobconsole.notify_schedule() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_schedule', '');
    return null;
end $$;

create trigger schedule_changed after insert or update or delete on jobconsole.schedule
    for each statement execute function jobconsole.notify_schedule();

-- rex.asynctask's pgsql transport: queues of JSON payloads in jobconsole's own schema,
-- so that what is submitted shows in the console at once, before any daemon reads it.
-- A payload leaves its queue in the transaction that records its task (intake), or
-- for good with get_task; a consumer that dies mid-claim leaves its row locked only
-- until its session ends.
create table jobconsole.payload (
    id bigserial primary key,
    queue text not null,
    payload jsonb not null,
    submitted timestamptz not null default now()
);

-- the oldest of a queue first
create index payload_queue on jobconsole.payload (queue, id);

-- Wakes the intake loops waiting on a queue, and the console's Queues view.
create function jobconsole.notify_payload() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_payload', q.queue) from (select distinct queue from new_rows) q;
    return null;
end $$;

create trigger payload_submitted after insert on jobconsole.payload
    referencing new table as new_rows
    for each statement execute function jobconsole.notify_payload();

-- What the daemons see of the queues they serve on other transports (Redis, AMQP, a
-- directory), published every two seconds: the console reads it here rather than
-- reaching brokers it has no credentials for. A row not renewed for a while belongs to
-- a daemon that stopped.
create table jobconsole.queue_seen (
    transport text not null,
    queue text not null,
    depth bigint not null,
    oldest_age double precision,
    seen timestamptz not null default now(),
    primary key (transport, queue)
);

create function jobconsole.notify_payload_seen() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_payload', '');
    return null;
end $$;

create trigger queue_seen_changed after insert or update or delete on jobconsole.queue_seen
    for each statement execute function jobconsole.notify_payload_seen();

-- rex.job's job table, as a view of the tasks it makes (core/compat/rexjob.py):
-- inserting (owner, type, payload) runs a job, deleting one not started cancels it.
-- A view keeps one status per job, the task's, read in rex.job's words.

-- The task's status in rex.job's words. 'new' is a job not yet queued (rex.job: not
-- yet handed to its queue); an aborted job failed, as rex.job has no other end.
create function jobconsole.job_status(status text) returns text
    language sql immutable strict as $$
    select case status
        when 'waiting' then 'new'
        when 'queued' then 'queued'
        when 'running' then 'started'
        when 'aborting' then 'started'
        when 'done' then 'completed'
        else 'failed'
    end
$$;

create view jobconsole.job as
    select id as code, owner, operation as type, input as payload,
           jobconsole.job_status(status) as status,
           queued as date_submitted, started as date_started, finished as date_completed
    from jobconsole.task
    where face = 'rexjob';

-- An inserted job is a task with its operation's defaults (timeout, retries), as
-- api.schedule gives it. An unknown type is refused here, in the inserting statement,
-- rather than left queued forever where no worker can run it.
create function jobconsole.job_insert() returns trigger language plpgsql as $$
declare
    op record;
begin
    if new.code is not null or new.status is distinct from 'new' then
        raise exception 'a job is inserted with its owner, type and payload only: '
                        'jobconsole gives its code and status'
            using errcode = '22023';
    end if;
    select count(distinct domain) as domains, min(domain) as domain,
           min(timeout) as timeout, min(retries) as retries, min(backoff) as backoff,
           min(retry_on) as retry_on
        into op from jobconsole.operation where name = new.type;
    if op.domains = 0 then
        raise exception 'no job type %: register its JobExecutor with '
                        '"jobconsole register-operations" first', quote_literal(new.type)
            using errcode = '22023';
    elsif op.domains > 1 then
        raise exception 'job type % is registered in several domains: rename one',
                        quote_literal(new.type)
            using errcode = '22023';
    end if;
    insert into jobconsole.task (operation, domain, input, owner, timeout, retries,
                                 backoff, retry_on, face)
        values (new.type, op.domain, new.payload, new.owner, op.timeout, op.retries,
                op.backoff, op.retry_on, 'rexjob')
        returning id, jobconsole.job_status(status), queued
        into new.code, new.status, new.date_submitted;
    return new;
end $$;

-- A job is cancelled by deleting it before it starts: its task goes with it, so no
-- worker can claim it. The delete re-checks the status under the row lock, so a job
-- claimed meanwhile is refused, not deleted while it runs.
create function jobconsole.job_delete() returns trigger language plpgsql as $$
declare
    now_status text;
begin
    delete from jobconsole.task
        where id = old.code and face = 'rexjob' and status in ('waiting', 'queued');
    if found then
        return old;
    end if;
    select jobconsole.job_status(status) into now_status
        from jobconsole.task where id = old.code;
    if now_status is null then
        return null;     -- deleted meanwhile by someone else
    end if;
    raise exception 'job % is %, so it can no longer be cancelled: only a new or '
                    'queued job can (abort it with "jobconsole abort-task %")',
                    old.code, now_status, old.code
        using errcode = '55000';
end $$;

alter view jobconsole.job alter column status set default 'new';

create trigger job_inserted instead of insert on jobconsole.job
    for each row execute function jobconsole.job_insert();
create trigger job_deleted instead of delete on jobconsole.job
    for each row execute function jobconsole.job_delete();

-- rex.job's facet tables, read with SQL: what each job's executor stored with
-- update_facet(name, code, ...), one row per job and facet.
create view jobconsole.job_facet as
    select t.id as code, f.key as name, f.value as "values"
    from jobconsole.task t,
         jsonb_each(case when jsonb_typeof(t.facet) = 'object' then t.facet end) f
    where t.face = 'rexjob';

-- A payload taken off a pgsql queue (get_task, or intake recording its task) is told
-- on a channel of its own, which the console's Queues view listens to: on
-- jobconsole_payload it would wake every idle consumer of every queue at each take.
create function jobconsole.notify_payload_taken() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_payload_taken', q.queue)
        from (select distinct queue from old_rows) q;
    return null;
end $$;

create trigger payload_taken after delete on jobconsole.payload
    referencing old table as old_rows
    for each statement execute function jobconsole.notify_payload_taken();

-- Tethys' jobs (jobconsole.compat.tethys): what Tethys knows of a job that its task does
-- not. A job's id is its task's; a WORKFLOW has no task (its nodes' tasks share a
-- jobconsole workflow) and draws its id from the tasks' sequence. A job saved but not
-- executed is its task held 'waiting' (no start time, nothing it depends on: no monitor
-- promotes it) until execute releases it.
create table jobconsole.tethys_job (
    id bigint primary key default nextval('jobconsole.task_id_seq'),
    task_id bigint unique references jobconsole.task (id) on delete cascade,
    workflow_id bigint references jobconsole.tethys_job (id) on delete cascade,  -- a node's
    label text not null,                -- the app whose job it is (its package name)
    name text not null,
    username text not null,
    job_type text not null,
    description text not null default '',
    workspace text not null,
    extended_properties jsonb not null default '{}',
    attributes jsonb not null default '{}',   -- the type's own (BASIC: operation, input)
    parents text[] not null default '{}',     -- a node's parents, by name
    created timestamptz not null default now(),
    executed timestamptz
);
-- a name is unique among an app's jobs, and among a workflow's nodes
create unique index tethys_job_name on jobconsole.tethys_job (label, name)
    where workflow_id is null;
create unique index tethys_job_node on jobconsole.tethys_job (workflow_id, name)
    where workflow_id is not null;
create index tethys_job_user on jobconsole.tethys_job (label, username);

-- Tasks that run on another engine (Slurm, Dask), which no worker claims: they wait in
-- the engine's own domain ('slurm', 'dask'), and the one monitor that holds the
-- engine's tracking lock submits them, follows them and records their end. What is to
-- run is the task's input; this row is what the engine said.
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

-- Per-minute counters of ended tasks, kept by the engine as tasks end, which the
-- console's overview and `jobconsole stats` read instead of the task table: their cost
-- does not grow with it. One row per minute, domain, operation and shard: a worker
-- counts what its own steps end and writes it once a second in its own row (shard =
-- its id), so that workers never wait on each other's counters and a step costs no
-- more; every other statement that ends tasks (an abort, a crash, a dependency's
-- failure, a Slurm job's end) is counted by the task trigger in shard 0. `hist` counts durations (started to finished) in 28 buckets: bucket 0 up to
-- 1 ms, bucket b up to 2^b ms, the last everything longer; p50 and p95 are read off it,
-- to within a factor of two.
create table jobconsole.task_minute (
    minute timestamptz not null,
    domain text not null,
    operation text not null,
    shard bigint not null,
    done integer not null default 0,
    failed integer not null default 0,
    aborted integer not null default 0,
    seconds double precision not null default 0,  -- summed durations
    hist integer[] not null,
    primary key (minute, domain, operation, shard)
);

-- The overview's history of load, a row a minute: each domain's backlog (queued and
-- waiting, from the counts by status, and the oldest queued task's age) and each host's
-- busy and idle workers with its CPU and memory. Every running monitor samples them
-- twice a minute; the first sample of a minute is kept (the others find it there), so
-- the overview draws the last hour of each from a few rows, however many tasks there
-- are, and nobody keeps a history in memory.
create table jobconsole.backlog_minute (
    minute timestamptz not null,
    domain text not null,
    queued integer not null,
    waiting integer not null,
    oldest double precision,        -- seconds: the oldest queued task's age (null: none)
    primary key (minute, domain)
);

create table jobconsole.host_minute (
    minute timestamptz not null,
    host text not null,
    busy integer not null,
    idle integer not null,
    cpu_percent real,
    mem_percent real,
    primary key (minute, host)
);

create function jobconsole.histogram(secs double precision[]) returns integer[]
language sql immutable as $$
    select array_agg(coalesce(x.n, 0)::integer order by i)
    from generate_series(0, 27) i
    left join (select least(27, greatest(0, ceil(log(2.0, greatest(s * 1000, 1)::numeric))))::int
                      as b, count(*) as n
               from unnest(secs) s where s is not null group by 1) x on x.b = i
$$;

create function jobconsole.hist_add(a integer[], b integer[]) returns integer[]
language sql immutable as $$
    select array_agg(x + y order by i) from unnest(a, b) with ordinality as u(x, y, i)
$$;

-- Every failed attempt of a task that was retried: the task row holds its current (or
-- last) attempt only, and the retry trigger records the one it turns into a retry
-- before clearing its times. The task screen and show-task list them.
create table jobconsole.attempt (
    task_id bigint not null references jobconsole.task (id) on delete cascade,
    attempt integer not null,
    worker_id integer,
    started timestamptz,
    finished timestamptz not null,
    error_kind text,
    traceback text,          -- its end (the exception), at most 4000 characters
    primary key (task_id, attempt)
);

-- Counts of tasks by owner, domain and status, kept as tasks are inserted, change
-- status and are deleted, in the statements that do it: the console's status bar, the
-- overview's backlog and `jobconsole stats` read them instead of counting the task
-- table, so that their cost does not grow with it (a count over a million tasks took
-- 80-120 ms, and every open console repeated it at every change).
--
-- A writer adds its deltas to the rows of its own shard (its backend's pid modulo 32),
-- so that two workers claiming or ending tasks at once seldom wait on the same counter
-- row; a count is the sum over the shards. Triggers keep the counts whoever writes (a
-- worker, a monitor, SQL typed by hand), in the same transaction as the change, so they
-- are exact; a recount (core/counts.py: monitors run it now and then, and `jobconsole db
-- recount` at once) corrects them all the same, should something have bypassed the
-- triggers (session_replication_role = replica, as a restore runs, does).
create table jobconsole.task_count (
    owner text not null,        -- '' for a task without an owner
    domain text not null,
    status text not null,
    shard integer not null,
    n bigint not null,
    primary key (owner, domain, status, shard)
);

-- Adds deltas, given as parallel arrays, to this session's shard.
create function jobconsole.add_counts(owners text[], domains text[], statuses text[],
                                      deltas bigint[]) returns void
language sql as $$
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    select o, d, s, pg_backend_pid() % 32, sum(x)
    from unnest(owners, domains, statuses, deltas) u(o, d, s, x)
    group by o, d, s having sum(x) <> 0
    on conflict (owner, domain, status, shard) do update set n = c.n + excluded.n
$$;

create function jobconsole.count_deleted() returns trigger language plpgsql as $$
begin
    perform jobconsole.add_counts(array_agg(k.o), array_agg(k.d), array_agg(k.s),
                                  array_agg(-k.n))
    from (select coalesce(owner, '') as o, domain as d, status as s, count(*) as n
          from old_rows group by 1, 2, 3) k
    having count(*) > 0;
    return null;
end $$;

create trigger task_uncounted after delete on jobconsole.task
    referencing old table as old_rows
    for each statement execute function jobconsole.count_deleted();

create function jobconsole.count_truncated() returns trigger language plpgsql as $$
begin
    delete from jobconsole.task_count;
    return null;
end $$;

create trigger task_truncated after truncate on jobconsole.task
    for each statement execute function jobconsole.count_truncated();

-- When the counts were recounted, and how many were found wrong (core/counts.py): the
-- monitors' turn to recount comes from the last row.
create table jobconsole.recounted (
    at timestamptz not null,
    wrong integer not null
);
