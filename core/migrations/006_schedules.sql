-- Cron schedules: a rule that makes monitors create tasks. Any monitor fires the due
-- schedules; the row lock (SKIP LOCKED) keeps two from handling one at once, and the
-- unique (schedule_id, fire_time) index makes "one task per fire time" a fact the
-- database enforces, whatever a monitor's clock or timing.
create table jobconsole.schedule (
    id serial primary key,
    key text not null unique,           -- hash of what identifies it: prepare twice replaces
    operation text not null,
    domain text not null,
    host text,                          -- the tasks' host; null: any host
    rule text not null,                 -- cron: five fields, or six with seconds first
    timezone text not null,             -- the zone the rule's hours and days are in
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
create index schedule_due on jobconsole.schedule (next_fire) where not paused;

alter table jobconsole.task
    add column schedule_id integer references jobconsole.schedule (id) on delete set null,
    add column fire_time timestamptz;
create unique index task_fire on jobconsole.task (schedule_id, fire_time)
    where fire_time is not null;

-- jobconsole_schedule: any change to schedules (the console's schedules view).
create function jobconsole.notify_schedule() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_schedule', '');
    return null;
end $$;

create trigger schedule_changed after insert or update or delete on jobconsole.schedule
    for each statement execute function jobconsole.notify_schedule();
