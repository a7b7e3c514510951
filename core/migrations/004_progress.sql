-- Progress and facet: what a running task says of itself (RexDB's update_facet), written
-- by the worker's companion thread at most a few times a second.
alter table jobconsole.task
    add column progress_done double precision,
    add column progress_total double precision,
    add column progress_message text,
    add column facet jsonb;
