"""WSGI entry point for a production server, e.g. ``gunicorn wsgi:app``."""

import sys

from cxactions import create_app
from cxactions.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # one line naming the variable, not a traceback
    sys.exit(f"cxactions: {error}")
