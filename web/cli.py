"""Registers the app's `flask` commands, each group living beside the area it serves."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    from web.commands.demo import demo
    from web.commands.matching import matching, worker_command
    from web.commands.sms import sms
    from web.commands.translate import translate
    from web.commands.users import users

    app.cli.add_command(translate)
    app.cli.add_command(demo)
    app.cli.add_command(users)
    app.cli.add_command(matching)
    app.cli.add_command(worker_command)
    app.cli.add_command(sms)
