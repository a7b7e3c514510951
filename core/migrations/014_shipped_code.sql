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

alter table jobconsole.task add column action_id integer references jobconsole.action (id);
