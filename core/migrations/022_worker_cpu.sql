-- A worker's CPU use (its own process, percent of one core since its last heartbeat),
-- written as it beats: the Workers view's bar.
alter table jobconsole.worker add column cpu_percent real;
