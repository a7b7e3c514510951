-- Retries: a task that fails with a kind it may retry on goes back to the queue (after
-- a back-off, as 'waiting') with attempt + 1, until it has had retries + 1 attempts.
-- One row trigger does it, whoever fails the task: the worker (error, timeout) or a
-- monitor (crash, timeout by kill). An abort never retries.
alter table jobconsole.operation
    add column backoff double precision not null default 0,
    add column retry_on text[] not null default '{error,timeout,crash}';
alter table jobconsole.task
    add column backoff double precision not null default 0,
    add column retry_on text[] not null default '{error,timeout,crash}';

create function jobconsole.retry() returns trigger language plpgsql as $$
declare
    wait double precision := new.backoff * 2 ^ (new.attempt - 1);
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
    return new;
end $$;

create trigger task_retry before update of status on jobconsole.task
    for each row
    when (new.status = 'failed' and old.status <> 'failed' and new.attempt <= new.retries
          and new.error_kind = any(new.retry_on))
    execute function jobconsole.retry();
