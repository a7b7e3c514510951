-- Dependencies: a task scheduled with depends_on waits until all of them are done, then
-- is queued at once; if one fails (for good) or is aborted, it fails with kind
-- 'dependency' without running, and so on down the chain. A row trigger does it when a
-- task with dependents finishes, whoever finished it; has_dependents keeps every other
-- task's finish (the hot path) from calling it at all.
create table jobconsole.dependency (
    task_id bigint not null references jobconsole.task (id) on delete cascade,
    depends_on bigint not null references jobconsole.task (id) on delete cascade,
    primary key (task_id, depends_on)
);
create index dependency_parent on jobconsole.dependency (depends_on);
alter table jobconsole.task add column has_dependents boolean not null default false;

create function jobconsole.release_dependents() returns trigger language plpgsql as $$
declare
    d text;
begin
    if new.status = 'done' then
        -- announced here: on a worker's session the status trigger stands aside
        for d in with released as (
                     update jobconsole.task t set status = 'queued'
                     where t.status = 'waiting'
                       and t.id in (select x.task_id from jobconsole.dependency x
                                    where x.depends_on = new.id)
                       and (t.run_at is null or t.run_at <= now())
                       and not exists (select from jobconsole.dependency x
                                       join jobconsole.task p on p.id = x.depends_on
                                       where x.task_id = t.id and p.status <> 'done')
                     returning t.domain)
                 select distinct domain from released loop
            perform pg_notify('jobconsole_queued', d);
        end loop;
    else
        update jobconsole.task t set status = 'failed', error_kind = 'dependency',
            traceback = format('task %s, which it depends on, was %s', new.id, new.status),
            finished = now()
        where t.status = 'waiting'
          and t.id in (select d.task_id from jobconsole.dependency d where d.depends_on = new.id);
    end if;
    return null;
end $$;

create trigger task_release_dependents after update of status on jobconsole.task
    for each row
    when (new.has_dependents and new.status in ('done', 'failed', 'aborted')
          and old.status is distinct from new.status)
    execute function jobconsole.release_dependents();
