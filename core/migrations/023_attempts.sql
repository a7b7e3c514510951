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

create or replace function jobconsole.retry() returns trigger language plpgsql as $$
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
