-- Counts of tasks by owner, domain and status, kept as tasks are inserted, change
-- status and are deleted, in the statements that do it: the console's status bar, the
-- overview's backlog and `jobconsole stats` read them instead of counting the task
-- table, so that their cost does not grow with it (a count over a million tasks took
-- 80-120 ms, and every open console repeated it at every change).
--
-- A writer adds its deltas to the rows of its own shard (its backend's pid modulo 32),
-- so that two workers claiming or ending tasks at once seldom wait on the same counter
-- row; a count is the sum over the shards. Triggers keep the counts whoever writes (a
-- worker, a monitor, SQL typed by hand), in the same transaction as the change, so they
-- are exact; a recount (core/counts.py: monitors run it now and then, and `jobconsole db
-- recount` at once) corrects them all the same, should something have bypassed the
-- triggers (session_replication_role = replica, as a restore runs, does).
create table jobconsole.task_count (
    owner text not null,        -- '' for a task without an owner
    domain text not null,
    status text not null,
    shard integer not null,
    n bigint not null,
    primary key (owner, domain, status, shard)
);

insert into jobconsole.task_count (owner, domain, status, shard, n)
select coalesce(owner, ''), domain, status, 0, count(*)
from jobconsole.task group by 1, 2, 3;

-- Adds deltas, given as parallel arrays, to this session's shard.
create function jobconsole.add_counts(owners text[], domains text[], statuses text[],
                                      deltas bigint[]) returns void
language sql as $$
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    select o, d, s, pg_backend_pid() % 32, sum(x)
    from unnest(owners, domains, statuses, deltas) u(o, d, s, x)
    group by o, d, s having sum(x) <> 0
    on conflict (owner, domain, status, shard) do update set n = c.n + excluded.n
$$;

-- One task inserted, by anyone but a batch enqueue, which counts its own rows
-- (core/transitions.py) as it announces them: the row trigger that announces an insert
-- counts it too, one call per row being cheaper than a transition table for one row.
create or replace function jobconsole.notify_task_insert() returns trigger language plpgsql as $$
begin
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    values (coalesce(new.owner, ''), new.domain, new.status, pg_backend_pid() % 32, 1)
    on conflict (owner, domain, status, shard) do update set n = c.n + 1;
    if new.status = 'queued' then
        perform pg_notify('jobconsole_queued', new.domain);
    else
        perform pg_notify('jobconsole_task', 'new');
    end if;
    return null;
end $$;

-- One trigger for every change of tasks (schema.sql says what it does), where three
-- would cost three calls of a function per statement, and a worker makes two
-- statements per task: it counts the changes of status (or of owner or domain), and
-- does what count_ended (migration 021) and notify_task_update did, which it replaces.
create function jobconsole.task_changed() returns trigger language plpgsql as $$
declare
    d text;
    ids text;
begin
    insert into jobconsole.task_count as c (owner, domain, status, shard, n)
    select k.o, k.d, k.s, pg_backend_pid() % 32, sum(k.x)
    from old_rows o join new_rows n using (id)
    cross join lateral (values (coalesce(o.owner, ''), o.domain, o.status, -1),
                               (coalesce(n.owner, ''), n.domain, n.status, 1)) k(o, d, s, x)
    where (n.status, n.domain, n.owner) is distinct from (o.status, o.domain, o.owner)
    group by 1, 2, 3 having sum(k.x) <> 0
    on conflict (owner, domain, status, shard) do update set n = c.n + excluded.n;

    if current_setting('jobconsole.counted', true) is distinct from statement_timestamp()::text
       and exists (select from new_rows where status in ('done', 'failed', 'aborted')) then
        insert into jobconsole.task_minute as m (minute, domain, operation, shard, done,
                                                 failed, aborted, seconds, hist)
        select date_trunc('minute', now()), n.domain, n.operation, 0,
               count(*) filter (where n.status = 'done'),
               count(*) filter (where n.status = 'failed'),
               count(*) filter (where n.status = 'aborted'),
               coalesce(sum(extract(epoch from n.finished - n.started)), 0),
               jobconsole.histogram(array_agg(extract(epoch from n.finished - n.started)::float8))
        from new_rows n join old_rows o using (id)
        where n.status in ('done', 'failed', 'aborted')
          and o.status not in ('done', 'failed', 'aborted')
        group by n.domain, n.operation
        on conflict (minute, domain, operation, shard) do update set
            done = m.done + excluded.done, failed = m.failed + excluded.failed,
            aborted = m.aborted + excluded.aborted, seconds = m.seconds + excluded.seconds,
            hist = jobconsole.hist_add(m.hist, excluded.hist);
    end if;

    if current_setting('jobconsole.notifies_itself', true) is distinct from 'on' then
        for d in select distinct n.domain from new_rows n join old_rows o using (id)
                 where n.status = 'queued' and o.status <> 'queued' loop
            perform pg_notify('jobconsole_queued', d);
        end loop;
        select case when count(*) > 50 then '*' else string_agg(n.id::text, ',') end into ids
            from new_rows n join old_rows o using (id) where n.status <> o.status;
        if ids is not null then
            perform pg_notify('jobconsole_task', ids);
        end if;
    end if;
    return null;
end $$;

drop trigger task_ended on jobconsole.task;
drop function jobconsole.count_ended();
drop trigger task_updated on jobconsole.task;
drop function jobconsole.notify_task_update();

create trigger task_updated after update on jobconsole.task
    referencing new table as new_rows old table as old_rows
    for each statement execute function jobconsole.task_changed();

create function jobconsole.count_deleted() returns trigger language plpgsql as $$
begin
    perform jobconsole.add_counts(array_agg(k.o), array_agg(k.d), array_agg(k.s),
                                  array_agg(-k.n))
    from (select coalesce(owner, '') as o, domain as d, status as s, count(*) as n
          from old_rows group by 1, 2, 3) k
    having count(*) > 0;
    return null;
end $$;

create trigger task_uncounted after delete on jobconsole.task
    referencing old table as old_rows
    for each statement execute function jobconsole.count_deleted();

create function jobconsole.count_truncated() returns trigger language plpgsql as $$
begin
    delete from jobconsole.task_count;
    return null;
end $$;

create trigger task_truncated after truncate on jobconsole.task
    for each statement execute function jobconsole.count_truncated();

-- When the counts were recounted, and how many were found wrong (core/counts.py): the
-- monitors' turn to recount comes from the last row.
create table jobconsole.recounted (
    at timestamptz not null,
    wrong integer not null
);
