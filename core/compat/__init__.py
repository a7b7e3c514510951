"""The faces of the systems jobconsole replaces, one module each, imported by their users
as `jobconsole.compat.<seed>` (docs/architecture.md). A face translates names, statuses
and call shapes; what it runs is an ordinary task."""
