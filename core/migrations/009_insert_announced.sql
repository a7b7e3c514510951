-- A batch enqueue announces its own rows (one pg_notify per domain, inside the
-- statement), as a worker's step does: a trigger call for each row cost more than
-- inserting a small task (batches of 100 went from 76,000 to 58,000 tasks/s with the
-- row trigger alone). The row trigger stays for every other insert (one task, a
-- relaunch, SQL typed by hand) and stands aside, in C, when the statement says it
-- announced itself:
-- by setting the setting to its own start time, so that a later statement of the same
-- transaction is announced by the trigger again.
drop trigger task_inserted on jobconsole.task;
create trigger task_inserted after insert on jobconsole.task
    for each row
    when (current_setting('jobconsole.insert_announced', true)
          is distinct from statement_timestamp()::text)
    execute function jobconsole.notify_task_insert();
