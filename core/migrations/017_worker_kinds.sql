-- Workers of three kinds, and more than one monitor of a host and domain.
--
-- A worker runs as a child process of its monitor (subprocess), in a window of a tmux
-- session where an operator can attach and watch it (tmux), or in the process that
-- asked for it (inprocess: myjobs' worker_inprocess_start, for tests and debugging).
-- The console shows which.
--
-- A monitor may carry a label: monitors of one host and domain with different labels
-- run side by side, each with its own workers (myjobs lets any number of processes
-- start workers). Two with the same label would still fight over the same workers'
-- rows, so the database refuses the second, as before for unlabelled ones.
alter table jobconsole.worker add column kind text not null default 'subprocess'
    check (kind in ('subprocess', 'tmux', 'inprocess'));
alter table jobconsole.monitor add column label text not null default '';
drop index jobconsole.monitor_live;
create unique index monitor_live on jobconsole.monitor (host, domain, label)
    where status in ('running', 'stopping');
