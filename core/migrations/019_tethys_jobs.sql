-- Tethys' jobs (jobconsole.compat.tethys): each is a task, and this row holds what
-- Tethys knows of it that a task does not: the app (label) whose job it is, its name,
-- unique in that app, its type, description, workspace, extended properties and the
-- type's own attributes. A job saved but not executed is a task held 'waiting' (no start
-- time and nothing it depends on: no monitor promotes it) until execute releases it.
create table jobconsole.tethys_job (
    id bigint primary key references jobconsole.task (id) on delete cascade,
    label text not null,
    name text not null,
    username text not null,
    job_type text not null,
    description text not null default '',
    workspace text not null,
    extended_properties jsonb not null default '{}',
    attributes jsonb not null default '{}',
    created timestamptz not null default now(),
    executed timestamptz,
    unique (label, name)
);
create index tethys_job_user on jobconsole.tethys_job (label, username);
