"""Operations: what each host and domain can run, and where it is imported from."""
import click

from jobconsole import api

from .. import columns
from .common import json_option, output


@click.command("register-operations")
@click.argument("path", metavar="FILE|MODULE")
@click.option("--domain", help="Only the operations of this domain.")
@click.option("--host", help="Register for this host (default: this one).")
@click.pass_obj
def register_operations(dsn, path, domain, host):
    """Record the operations a file or module declares, for this host."""
    for op in api.register_operations(dsn, path, domain=domain, host=host):
        click.echo(f"registered {op.name} (domain {op.domain}, host {op.host})")


@click.command("unregister-operation")
@click.argument("name")
@click.option("--domain")
@click.option("--host")
@click.pass_obj
def unregister_operation(dsn, name, domain, host):
    """Forget an operation (on every host and domain unless narrowed)."""
    count = api.unregister_operation(dsn, name, domain=domain, host=host)
    click.echo(f"unregistered {count} registration{'s' * (count != 1)} of {name}")


@click.command("list-operations")
@click.option("--domain")
@click.option("--host")
@json_option
@click.pass_obj
def list_operations(dsn, domain, host, as_json):
    """The registered operations."""
    output(as_json, api.list_operations(dsn, domain=domain, host=host), columns.OPERATIONS)


COMMANDS = [register_operations, unregister_operation, list_operations]
