-- A retry's wait doubles at each attempt: from a large back-off it could overflow
-- PostgreSQL's intervals, failing the statement that failed the task (a worker's step,
-- a monitor's tick) again and again. It is capped at ten years, as the back-off itself
-- is when a task is scheduled (core/registry.py, MAX_SECONDS).
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
    return new;
end $$;
