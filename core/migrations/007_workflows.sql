-- Workflows: a named group of tasks (Tethys' workflows, the steps of a nightly import)
-- whose aggregate status the console and `show-workflow` report.
alter table jobconsole.task add column workflow text;
create index task_workflow on jobconsole.task (workflow, status) where workflow is not null;
