-- A batch enqueue announces its own rows (one pg_notify per domain, inside the
-- statement), as a worker's step does: a trigger call for each row cost more than
-- inserting a small task (batches of 100 went from 76,000 to 58,000 tasks/s with the
-- row trigger alone). The row trigger stays for every other insert (one task, a
-- relaunch, SQL typed by hand), and stands aside for a statement that announced its
-- rows itself. Such a statement sets jobconsole.insert_announced, for its transaction,
-- to its own start time, statement_timestamp(). The trigger's WHEN clause compares the
-- two, and PostgreSQL evaluates it without calling the PL/pgSQL function, so a skipped
-- row costs almost nothing. A later statement of the same transaction, sent by the
-- client after it, starts at another time, so the trigger announces its rows again.
drop trigger task_inserted on jobconsole.task;
create trigger task_inserted after insert on jobconsole.task
    for each row
    when (current_setting('jobconsole.insert_announced', true)
          is distinct from statement_timestamp()::text)
    execute function jobconsole.notify_task_insert();
