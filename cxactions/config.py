"""Settings from the environment, one class per mode.

Everything that differs between a laptop, CI and production comes from environment variables
(see the README's configuration table); nothing here opens a connection or touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> Path:
    """The instance folder: ``CXACTIONS_INSTANCE_PATH`` or ``./instance`` beside the checkout."""
    configured = os.environ.get("CXACTIONS_INSTANCE_PATH")
    return Path(configured).resolve() if configured else PROJECT_ROOT / "instance"


def normalise_database_url(url: str) -> str:
    """A bare ``postgresql://`` (or Heroku-style ``postgres://``) URL means psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Production-safe defaults; the database lives in the instance folder unless overridden."""

    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # The upload page refuses bigger files with HTTP 413; the CLI streams files of any size.
    MAX_CONTENT_LENGTH = int(os.environ.get("CXACTIONS_MAX_UPLOAD_MB", "50")) * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Rows per chunk when streaming an import; bounds memory whatever the file size.
    IMPORT_CHUNK_ROWS = int(os.environ.get("CXACTIONS_IMPORT_CHUNK_ROWS", "50000"))
    # A page that finds the impact estimates stale recomputes them in one background thread.
    IMPACT_BACKGROUND_REFRESH = True
    # After a commit that changed the library, the committing process updates the search index
    # ("inline"); "off" leaves the work in the outbox for the next search or `cxactions reindex`.
    SEARCH_SYNC = os.environ.get("CXACTIONS_SEARCH_SYNC", "inline")
    # Seconds a process waits for another one writing the index before leaving its work queued.
    SEARCH_LOCK_TIMEOUT = float(os.environ.get("CXACTIONS_SEARCH_LOCK_TIMEOUT", "10"))
    # How often (seconds) searches look for work a dead or busy writer left in the outbox.
    SEARCH_OUTBOX_CHECK_SECONDS = 1.0


class DevelopmentConfig(Config):
    """``make demo``: a random secret per process is fine on a laptop."""

    SECRET_KEY = os.environ.get("SECRET_KEY") or os.urandom(32).hex()


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def config_for_environment() -> type[Config]:
    return CONFIGS[os.environ.get("CXACTIONS_ENV", "development")]
