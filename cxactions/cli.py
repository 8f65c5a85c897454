"""The ``cxactions`` console script: Flask's CLI group around ``create_app``."""

from __future__ import annotations

from flask.cli import FlaskGroup

from cxactions import create_app


def main() -> None:
    FlaskGroup(
        create_app=create_app, add_version_option=False, help="cxactions: CX actions that work."
    )(prog_name="cxactions")
