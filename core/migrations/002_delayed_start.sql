-- Delayed start: a task with a future run_at waits ('waiting') until a monitor promotes
-- it to 'queued' once due.
alter table jobconsole.task add column run_at timestamptz;
create index task_due on jobconsole.task (run_at) where status = 'waiting';
