-- Which process a row names: a pid alone can be reused once its process is gone, so a
-- monitor checking the rows of its own host (is this monitor, this worker, alive?)
-- also compares the process's start time, as that host read it (seconds since the
-- epoch). Null for rows written before.
alter table jobconsole.monitor add column pid_started double precision;
alter table jobconsole.worker add column pid_started double precision;

-- A worker's session announces its own changes (the status trigger stands aside), so
-- what the row triggers change there must be announced by the triggers themselves:
-- a retry queued at once wakes the workers of its domain, and dependents failed by a
-- failure wake those who wait for them (Task.join).
create or replace function jobconsole.retry() returns trigger language plpgsql as $$
declare
    wait double precision := least(new.backoff * 2 ^ least(new.attempt - 1, 40), 315360000);
begin
    new.status := case when wait > 0 then 'waiting' else 'queued' end;
    new.run_at := case when wait > 0 then now() + make_interval(secs => wait) end;
    new.attempt := new.attempt + 1;
    new.worker_id := null;
    new.claimed := null;
    new.started := null;
    new.finished := null;
    new.output := null;
    new.raw_output := null;
    -- error_kind and traceback stay: they tell why the last attempt failed
    if new.status = 'queued' and current_setting('jobconsole.notifies_itself', true) = 'on' then
        perform pg_notify('jobconsole_queued', new.domain);
    end if;
    return new;
end $$;

create or replace function jobconsole.release_dependents() returns trigger language plpgsql as $$
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
