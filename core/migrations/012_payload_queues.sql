-- rex.asynctask's pgsql transport: queues of JSON payloads in jobconsole's own schema,
-- so that what is submitted shows in the console at once, before any daemon reads it.
-- A payload leaves its queue in the transaction that records its task (intake), or
-- for good with get_task; a consumer that dies mid-claim leaves its row locked only
-- until its session ends.
create table jobconsole.payload (
    id bigserial primary key,
    queue text not null,
    payload jsonb not null,
    submitted timestamptz not null default now()
);

-- the oldest of a queue first
create index payload_queue on jobconsole.payload (queue, id);

-- Wakes the intake loops waiting on a queue, and the console's Queues view.
create function jobconsole.notify_payload() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_payload', q.queue) from (select distinct queue from new_rows) q;
    return null;
end $$;

create trigger payload_submitted after insert on jobconsole.payload
    referencing new table as new_rows
    for each statement execute function jobconsole.notify_payload();

-- What the daemons see of the queues they serve on other transports (Redis, AMQP, a
-- directory), published every two seconds: the console reads it here rather than
-- reaching brokers it has no credentials for. A row not renewed for a while belongs to
-- a daemon that stopped.
create table jobconsole.queue_seen (
    transport text not null,
    queue text not null,
    depth bigint not null,
    oldest_age double precision,
    seen timestamptz not null default now(),
    primary key (transport, queue)
);

create function jobconsole.notify_payload_seen() returns trigger language plpgsql as $$
begin
    perform pg_notify('jobconsole_payload', '');
    return null;
end $$;

create trigger queue_seen_changed after insert or update or delete on jobconsole.queue_seen
    for each statement execute function jobconsole.notify_payload_seen();
