"""Transports: queues of payloads outside jobconsole's task table (rex.asynctask's), read
by intake loops that turn each payload into a task (docs/architecture.md)."""
