-- Where a log line came from, when the worker knows: 'stdout:INFO' and 'stderr:ERROR'
-- for what a task printed inside capturelogs(std=True), and '<logger>:<LEVEL>' for a
-- logging record (rework's names for them: `log-task --prefix` prints rework's line
-- prefix from it). Null for what reached the worker's file descriptors 1 and 2, which
-- share one pipe and cannot be told apart, and for lines written before this version.
alter table jobconsole.log add column source text;
