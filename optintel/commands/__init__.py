"""The `flask` command-line interface for operators."""
import click


class InvalidInput(click.ClickException):
    """A validation.Invalid told on the terminal, one message a line; exit status 1."""

    def __init__(self, invalid):
        super().__init__("\n".join(f"{field}: {message}"
                                   for field, messages in invalid.fields.items()
                                   for message in messages))


def register(app):
    """Add the operator commands to `flask`."""
    from . import api_keys, demo, keys, lists, runtime, users
    for command in (runtime.worker, runtime.embedded_redis, users.users, api_keys.api_keys,
                    demo.demo, lists.lists, keys.secrets):
        app.cli.add_command(command)
