-- Enqueueing one task at a time is a hot path: announce an insert from a row trigger,
-- one pg_notify and no transition table (whose tuplestore and queries cost more than
-- the insert itself). PostgreSQL folds identical notifications of one transaction
-- into one, so a batch still wakes each domain's workers once. A queued task's
-- domain wakes its workers (the console hears that channel too); a waiting one, which
-- no worker can take yet, only tells the console that there are new tasks.
drop trigger task_inserted on jobconsole.task;
drop function jobconsole.notify_task_insert();

create function jobconsole.notify_task_insert() returns trigger language plpgsql as $$
begin
    if new.status = 'queued' then
        perform pg_notify('jobconsole_queued', new.domain);
    else
        perform pg_notify('jobconsole_task', 'new');
    end if;
    return null;
end $$;

create trigger task_inserted after insert on jobconsole.task
    for each row execute function jobconsole.notify_task_insert();
