-- The memory of each monitor's host, in MB, written as it beats: the Workers view draws
-- each worker's memory as a bar of its monitor's --max-mem (the size at which the
-- worker is recycled), or else of its host's memory.
alter table jobconsole.monitor add column mem_total_mb integer;
