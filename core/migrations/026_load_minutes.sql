-- The overview's history of load, a row a minute: each domain's backlog (queued and
-- waiting, from the counts by status, and the oldest queued task's age) and each host's
-- busy and idle workers with its CPU and memory. Every running monitor samples them
-- twice a minute; the first sample of a minute is kept (the others find it there), so
-- the overview draws the last hour of each from a few rows, however many tasks there
-- are, and nobody keeps a history in memory.
create table jobconsole.backlog_minute (
    minute timestamptz not null,
    domain text not null,
    queued integer not null,
    waiting integer not null,
    oldest double precision,        -- seconds: the oldest queued task's age (null: none)
    primary key (minute, domain)
);

create table jobconsole.host_minute (
    minute timestamptz not null,
    host text not null,
    busy integer not null,
    idle integer not null,
    cpu_percent real,
    mem_percent real,
    primary key (minute, host)
);
