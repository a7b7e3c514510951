-- Per-minute counters of ended tasks, kept by the engine as tasks end, which the
-- console's overview and `jobconsole stats` read instead of the task table: their cost
-- does not grow with it. One row per minute, domain, operation and shard: a worker
-- counts what its own steps end and writes it once a second in its own row (shard =
-- its id), so that workers never wait on each other's counters and a step costs no
-- more; every other statement that ends tasks (an abort, a crash, a dependency's
-- failure, a Slurm job's end) is counted by the task trigger in shard 0. `hist` counts durations (started to finished) in 28 buckets: bucket 0 up to
-- 1 ms, bucket b up to 2^b ms, the last everything longer; p50 and p95 are read off it,
-- to within a factor of two.
create table jobconsole.task_minute (
    minute timestamptz not null,
    domain text not null,
    operation text not null,
    shard bigint not null,
    done integer not null default 0,
    failed integer not null default 0,
    aborted integer not null default 0,
    seconds double precision not null default 0,  -- summed durations
    hist integer[] not null,
    primary key (minute, domain, operation, shard)
);

create function jobconsole.histogram(secs double precision[]) returns integer[]
language sql immutable as $$
    select array_agg(coalesce(x.n, 0)::integer order by i)
    from generate_series(0, 27) i
    left join (select least(27, greatest(0, ceil(log(2.0, greatest(s * 1000, 1)::numeric))))::int
                      as b, count(*) as n
               from unnest(secs) s where s is not null group by 1) x on x.b = i
$$;

create function jobconsole.hist_add(a integer[], b integer[]) returns integer[]
language sql immutable as $$
    select array_agg(x + y order by i) from unnest(a, b) with ordinality as u(x, y, i)
$$;

-- Counts what a statement ended, unless its worker counts it (a worker's step says so
-- in jobconsole.counted for the length of the statement, and writes its counts once a
-- second: core/stats.py, Tally). Most statements end nothing (a claim, a start): they
-- leave at the first test.
create function jobconsole.count_ended() returns trigger language plpgsql as $$
begin
    if current_setting('jobconsole.counted', true) = statement_timestamp()::text
       or not exists (select from new_rows where status in ('done', 'failed', 'aborted')) then
        return null;
    end if;
    insert into jobconsole.task_minute as m (minute, domain, operation, shard, done, failed,
                                             aborted, seconds, hist)
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
    return null;
end $$;

create trigger task_ended after update on jobconsole.task
    referencing new table as new_rows old table as old_rows
    for each statement execute function jobconsole.count_ended();

-- Each monitor reads its host's CPU and memory use as it beats: the overview's figures
-- per host.
alter table jobconsole.monitor add column cpu_percent real, add column mem_percent real;
