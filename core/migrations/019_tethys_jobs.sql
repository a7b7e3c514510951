-- Tethys' jobs (jobconsole.compat.tethys). A job is a task, and this row holds what
-- Tethys knows of it that a task does not: the app (label) whose job it is, its name,
-- its type, description, workspace, extended properties and the type's own attributes.
-- A job's id is its task's. A WORKFLOW has no task of its own: its nodes' tasks share
-- a jobconsole workflow, and its id is drawn from the tasks' sequence, so that no job
-- id is ever two jobs'. A job saved but not executed is its task held 'waiting' (no
-- start time, nothing it depends on: no monitor promotes it) until execute releases it.
create table jobconsole.tethys_job (
    id bigint primary key default nextval('jobconsole.task_id_seq'),
    task_id bigint unique references jobconsole.task (id) on delete cascade,
    workflow_id bigint references jobconsole.tethys_job (id) on delete cascade,
    label text not null,
    name text not null,
    username text not null,
    job_type text not null,
    description text not null default '',
    workspace text not null,
    extended_properties jsonb not null default '{}',
    attributes jsonb not null default '{}',
    parents text[] not null default '{}',
    created timestamptz not null default now(),
    executed timestamptz
);
-- a name is unique among an app's jobs, and among a workflow's nodes
create unique index tethys_job_name on jobconsole.tethys_job (label, name)
    where workflow_id is null;
create unique index tethys_job_node on jobconsole.tethys_job (workflow_id, name)
    where workflow_id is not null;
create index tethys_job_user on jobconsole.tethys_job (label, username);
