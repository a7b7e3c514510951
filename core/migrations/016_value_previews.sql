-- What a listing shows of a task's input and output: its size and its first
-- characters, kept beside the value by triggers. A listing that read the values
-- themselves read each one whole (a jsonb is detoasted entire), 100 MB a row for
-- tasks given 100 MB; these columns are a few hundred bytes, in the row itself.
alter table jobconsole.task
    add column input_size bigint,       -- bytes of its JSON text as stored, or of raw_input
    add column input_head text,         -- the first 400 characters of that JSON text
    add column output_size bigint,
    add column output_head text;

-- Only when the value is written: a trigger of UPDATE OF fires on the statements
-- that set these columns, so a claim or a progress report never reads the value.
-- Not generated columns: the task table has a BEFORE UPDATE trigger (retry), and
-- PostgreSQL then recomputes every generated column on every update of a row (0.17 s
-- a row for a 50 MB input).
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
-- most tasks are inserted without an output, and many finish without one
create trigger task_output_measured before insert or update of output, raw_output
    on jobconsole.task for each row
    when (new.output is not null or new.raw_output is not null or new.output_size is not null)
    execute function jobconsole.measure_output();

-- A retry drops the last attempt's output, so its measure too (this trigger's update
-- of status alone does not wake the one above).
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
    new.output_size := null;
    new.output_head := null;
    -- error_kind and traceback stay: they tell why the last attempt failed
    if new.status = 'queued' and current_setting('jobconsole.notifies_itself', true) = 'on' then
        perform pg_notify('jobconsole_queued', new.domain);
    end if;
    return new;
end $$;

-- The tasks already stored: setting a value to itself runs the triggers above (a
-- toasted value is not copied: the row keeps its pointer to it).
update jobconsole.task set input = input, raw_input = raw_input
    where input is not null or raw_input is not null;
update jobconsole.task set output = output, raw_output = raw_output
    where output is not null or raw_output is not null;
