"""Where a command line may name its database besides `jobconsole --dsn DSN COMMAND`:
`--dsn` after the command, and, for the commands rework has, rework's own form, the
database URI as the command's first argument (`jobconsole init-db postgres://...`).
Both are moved before the command, as --dsn, before click parses anything."""
import re

from jobconsole.errors import BadInput

# rework's commands, and how many arguments of their own come after its URI
REWORK_ARGUMENTS = {"init-db": 0, "register-operations": 1, "monitor": 0,
                    "list-operations": 0, "list-tasks": 0, "list-workers": 0,
                    "log-task": 1, "abort-task": 1, "vacuum": 0}
# the top-level options that take a value: what follows them is not the command
_VALUED = {"--dsn", "--refresh", "--owner"}
_URI = re.compile(r"postgres(ql)?://", re.IGNORECASE)


def hoist_database(args):
    """`args` with the database named after the command moved before it, as --dsn."""
    args = list(args)
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in _VALUED else 1
    if i >= len(args) or args[i] == "--":
        return args
    head, command, rest = args[:i], args[i], args[i + 1:]
    named, kept = [], []
    j = 0
    while j < len(rest):
        if rest[j] == "--":
            kept += rest[j:]
            break
        if rest[j] == "--dsn" and j + 1 < len(rest):
            named.append(rest[j + 1])
            j += 2
            continue
        if rest[j].startswith("--dsn="):
            named.append(rest[j][len("--dsn="):])
        else:
            kept.append(rest[j])
        j += 1
    if command in REWORK_ARGUMENTS and kept and not kept[0].startswith("-"):
        leading = next((k for k, a in enumerate(kept) if a.startswith("-")), len(kept))
        if _URI.match(kept[0]):
            named.append(kept.pop(0))
        elif leading > REWORK_ARGUMENTS[command]:
            raise BadInput(f"{command}: {kept[0]!r:.80} is not a database URI (like "
                           f"postgres://user:password@host/db)")
    if len(named) > 1:
        raise BadInput(f"{command}: the database is named {len(named)} times")
    if named:
        head += ["--dsn", named[0]]
    return head + [command] + kept
