"""WSGI entry point for a production server, e.g. ``gunicorn wsgi:app``."""

from cxactions import create_app

app = create_app()
