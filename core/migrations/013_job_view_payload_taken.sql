-- rex.job's job table, as a view of the tasks it makes (core/compat/rexjob.py); and
-- a notification when a payload leaves a pgsql queue.
--
-- Inserting (owner, type, payload) into jobconsole.job, from any client, is all it
-- takes to run a job: the row becomes a task of the operation `type`, so that the
-- console, the CLI and every action treat it as any other task. A view rather than a
-- table of its own keeps one status per job, the task's, read in rex.job's words by
-- job_status(). `face` marks the tasks a face made, so that the view shows its jobs
-- and no other tasks.

alter table jobconsole.task add column face text;

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
