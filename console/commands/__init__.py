"""The CLI's commands, a module per theme: the database and its server, operations,
processes, tasks, cron schedules, and the demo. console/cli.py gathers them under the
`jobconsole` group."""
