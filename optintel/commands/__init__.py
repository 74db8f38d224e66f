"""The `flask` command-line interface for operators."""


def register(app):
    from . import runtime
    for group in (runtime.worker, runtime.embedded_redis):
        app.cli.add_command(group)
