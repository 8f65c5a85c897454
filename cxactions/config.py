"""Settings from the environment, one class per mode.

Everything that differs between a laptop, CI and production comes from environment variables
(see the README's configuration table). Each variable is declared once in ``SETTINGS`` with
what it accepts; a bad value stops the start with one line naming the variable, never a
traceback or a server that answers every request with an error. Nothing here opens a
connection or touches the disk.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development", "testing")
# Flask signs sessions with HMAC-SHA1/SHA-512 via itsdangerous: a short key is guessable offline.
MIN_SECRET_KEY_BYTES = 32


# Every script and style comes from /static: no inline code, no other origin, no framing.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


class ConfigError(ValueError):
    """A setting cannot be used; the message names the variable and what it accepts."""


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
    """Production: safe defaults, secure cookies, HSTS; the secret must come from outside."""

    ENV_NAME = "production"
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # The upload page refuses bigger files with HTTP 413; the CLI streams files of any size.
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024
    WTF_CSRF_ENABLED = True
    WTF_CSRF_CHECK_DEFAULT = True
    WTF_CSRF_TIME_LIMIT = None
    # Cookies: never readable by scripts, never sent on cross-site requests, HTTPS only here.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # "Keep me signed in" lasts this long; a session without it ends with the browser, and at
    # the latest after SESSION_HOURS (both are also ended server-side: see auth/sessions.py).
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    SESSION_HOURS = 12
    # HTTP Strict Transport Security: browsers use HTTPS for this host for a year.
    HSTS = True
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted.
    PROXY_COUNT = 0
    # Sign-in throttling (auth/throttle.py): failures counted over the window, per e-mail
    # address typed and per client address; beyond the limit, sign-in answers 429.
    SIGN_IN_WINDOW = timedelta(minutes=15)
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT = 5
    SIGN_IN_MAX_FAILURES_PER_ADDRESS = 20
    # Rows per chunk when streaming an import; bounds memory whatever the file size.
    IMPORT_CHUNK_ROWS = 50_000
    # A page that finds the impact estimates stale recomputes them in one background thread.
    IMPACT_BACKGROUND_REFRESH = True
    IMPACT_PERIOD = "week"
    IMPACT_WINDOW = 12
    IMPACT_CONTROL = "notyet"
    IMPACT_MIN_UNITS = 5
    # After a commit that changed the library, the committing process updates the search index
    # ("inline"); "off" leaves the work in the outbox for the next search or `cxactions reindex`.
    SEARCH_SYNC = "inline"
    # Seconds a process waits for another one writing the index before leaving its work queued.
    SEARCH_LOCK_TIMEOUT = 10.0
    # How often (seconds) searches look for work a dead or busy writer left in the outbox.
    SEARCH_OUTBOX_CHECK_SECONDS = 1.0
    # E-mail (`cxactions reminders`), through Flask-Mail: no server until CXACTIONS_SMTP_HOST
    # names one. The port follows the encryption unless CXACTIONS_SMTP_PORT says otherwise.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER = "cxactions@localhost"
    # Flask-Mail would drop every message when TESTING (the tests send to a real local server)
    # and print the SMTP dialogue, password included, when debugging.
    MAIL_SUPPRESS_SEND = False
    MAIL_DEBUG = 0
    # The app's absolute address, for the links in e-mails (no request to take it from).
    BASE_URL = "http://127.0.0.1:5000"


class DevelopmentConfig(Config):
    """``make demo``: plain HTTP on a laptop; a random secret per process is fine."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    HSTS = False


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False


CONFIGS: dict[str, type[Config]] = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


# --- Reading the environment ----------------------------------------------------------------


def _whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)  # "0.5" and "abc" raise ValueError
        if not minimum <= value <= maximum:
            raise ValueError
        return value

    parse.accepts = f"a whole number from {minimum} to {maximum}"  # type: ignore[attr-defined]
    return parse


def _seconds(minimum: float, maximum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or not minimum < value <= maximum:
            raise ValueError
        return value

    parse.accepts = f"a number of seconds above {minimum:g}, at most {maximum:g}"  # type: ignore[attr-defined]
    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError
        return text

    parse.accepts = "one of " + ", ".join(choices)  # type: ignore[attr-defined]
    return parse


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError


_boolean.accepts = "true or false (also 1/0, yes/no, on/off)"  # type: ignore[attr-defined]


def _host_name(text: str) -> str:
    # Letters, digits, dots, hyphens (names, IPv4) and colons (IPv6); nothing that could smuggle
    # a port, a path or a second command into the connection.
    if not 0 < len(text) <= 253 or not re.fullmatch(r"[A-Za-z0-9._:-]+", text):
        raise ValueError
    return text


_host_name.accepts = "a host name or IP address, e.g. smtp.example.com"  # type: ignore[attr-defined]


def _one_line(text: str) -> str:
    if "\n" in text or "\r" in text or len(text) > 254:
        raise ValueError
    return text


_one_line.accepts = "one line of at most 254 characters"  # type: ignore[attr-defined]


def _mail_address(text: str) -> str:
    # "cxactions@example.com" or "cxactions <cxactions@example.com>"; a local host name (no
    # dot) is fine: many relays take mail from cxactions@localhost.
    name, address = parseaddr(text)
    local, _, domain = address.rpartition("@")
    if (
        "\n" in text
        or "\r" in text
        or not local
        or not re.fullmatch(r"[A-Za-z0-9.-]+", domain)
        or any(character.isspace() for character in address)
    ):
        raise ValueError
    return formataddr((name, address)) if name else address


_mail_address.accepts = (  # type: ignore[attr-defined]
    "an e-mail address, optionally with a name: cxactions@example.com or "
    "cxactions <cxactions@example.com>"
)


def _absolute_url(text: str) -> str:
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(character.isspace() for character in text)
    ):
        raise ValueError
    parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    return text.rstrip("/")


_absolute_url.accepts = (  # type: ignore[attr-defined]
    "an absolute http(s) URL without query, e.g. https://cx.example.com"
)


@dataclass(frozen=True)
class Setting:
    """One environment variable: the config key it sets, how it is read, and a conversion."""

    variable: str
    key: str
    parse: Callable[[str], Any]
    to_config: Callable[[Any], Any] = lambda value: value


SETTINGS = (
    Setting(
        "CXACTIONS_MAX_UPLOAD_MB",
        "MAX_CONTENT_LENGTH",
        _whole_number(1, 10_240),
        lambda megabytes: megabytes * 1024 * 1024,
    ),
    Setting("CXACTIONS_IMPORT_CHUNK_ROWS", "IMPORT_CHUNK_ROWS", _whole_number(100, 10_000_000)),
    Setting("CXACTIONS_SEARCH_SYNC", "SEARCH_SYNC", _choice("inline", "off")),
    Setting("CXACTIONS_SEARCH_LOCK_TIMEOUT", "SEARCH_LOCK_TIMEOUT", _seconds(0, 600)),
    Setting(
        "CXACTIONS_IMPACT_PERIOD", "IMPACT_PERIOD", _choice("week", "month", "quarter", "year")
    ),
    Setting("CXACTIONS_IMPACT_WINDOW", "IMPACT_WINDOW", _whole_number(0, 520)),
    Setting("CXACTIONS_IMPACT_CONTROL", "IMPACT_CONTROL", _choice("notyet", "never")),
    Setting("CXACTIONS_IMPACT_MIN_UNITS", "IMPACT_MIN_UNITS", _whole_number(1, 10_000)),
    Setting("CXACTIONS_IMPACT_BACKGROUND_REFRESH", "IMPACT_BACKGROUND_REFRESH", _boolean),
    Setting(
        "CXACTIONS_REMEMBER_DAYS",
        "REMEMBER_COOKIE_DURATION",
        _whole_number(1, 90),
        lambda days: timedelta(days=days),
    ),
    Setting("CXACTIONS_SESSION_HOURS", "SESSION_HOURS", _whole_number(1, 168)),
    Setting("CXACTIONS_PROXY_COUNT", "PROXY_COUNT", _whole_number(0, 5)),
    Setting("CXACTIONS_SMTP_HOST", "MAIL_SERVER", _host_name),
    Setting("CXACTIONS_SMTP_PORT", "MAIL_PORT", _whole_number(1, 65_535)),
    Setting("CXACTIONS_SMTP_USERNAME", "MAIL_USERNAME", _one_line),
    Setting("CXACTIONS_SMTP_STARTTLS", "MAIL_USE_TLS", _boolean),
    Setting("CXACTIONS_SMTP_SSL", "MAIL_USE_SSL", _boolean),
    Setting("CXACTIONS_MAIL_FROM", "MAIL_DEFAULT_SENDER", _mail_address),
    Setting("CXACTIONS_BASE_URL", "BASE_URL", _absolute_url),
)


def _read(setting: Setting, text: str) -> Any:
    try:
        return setting.to_config(setting.parse(text.strip()))
    except ValueError:
        raise ConfigError(
            f"{setting.variable}={text!r} is not valid: it accepts {setting.parse.accepts}"  # type: ignore[attr-defined]
        ) from None


def environment_name(environ: Mapping[str, str]) -> str:
    name = environ.get("CXACTIONS_ENV", "development").strip()
    if name not in CONFIGS:
        raise ConfigError(
            f"CXACTIONS_ENV={name!r} is not valid: it accepts one of {', '.join(ENVIRONMENTS)}"
        )
    return name


def settings_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The configuration for ``environ`` (default ``os.environ``): its mode's defaults with each
    variable that is set read and checked. Raises ``ConfigError`` with a one-line reason."""
    environ = os.environ if environ is None else environ
    config_class = CONFIGS[environment_name(environ)]
    settings = {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}
    for setting in SETTINGS:
        text = environ.get(setting.variable)
        if text is not None and text.strip() != "":
            settings[setting.key] = _read(setting, text)
    _smtp_settings(environ, settings)
    secret = environ.get("SECRET_KEY")
    if secret:
        settings["SECRET_KEY"] = secret
    elif config_class is DevelopmentConfig:
        settings["SECRET_KEY"] = os.urandom(32).hex()
    return settings


def _smtp_settings(environ: Mapping[str, str], settings: dict[str, Any]) -> None:
    """What the SMTP variables mean together: one kind of encryption, its usual port unless
    CXACTIONS_SMTP_PORT is set, and a user name only with its password (read as written)."""
    if settings["MAIL_USE_TLS"] and settings["MAIL_USE_SSL"]:
        raise ConfigError(
            "CXACTIONS_SMTP_STARTTLS and CXACTIONS_SMTP_SSL are both on: choose one (STARTTLS "
            "upgrades a plain connection, usually on port 587; SSL is encrypted from the start, "
            "usually on port 465)"
        )
    if not (environ.get("CXACTIONS_SMTP_PORT") or "").strip():
        if settings["MAIL_USE_SSL"]:
            settings["MAIL_PORT"] = 465
        elif settings["MAIL_USE_TLS"]:
            settings["MAIL_PORT"] = 587
    # Never stripped nor echoed in an error: a password may hold any character.
    password = environ.get("CXACTIONS_SMTP_PASSWORD") or None
    if password is not None and ("\n" in password or "\r" in password):
        raise ConfigError("CXACTIONS_SMTP_PASSWORD is not valid: it accepts one line")
    if password is not None:
        settings["MAIL_PASSWORD"] = password
    if bool(settings["MAIL_USERNAME"]) != bool(settings["MAIL_PASSWORD"]):
        raise ConfigError(
            "CXACTIONS_SMTP_USERNAME and CXACTIONS_SMTP_PASSWORD go together: set both to sign "
            "in to the SMTP server, or neither"
        )


def check_secret_key(config: Mapping[str, Any]) -> None:
    """Every mode needs a secret; production one of at least ``MIN_SECRET_KEY_BYTES`` bytes."""
    secret = config.get("SECRET_KEY")
    if not secret:
        raise ConfigError(
            "SECRET_KEY is not set: export a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes (e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))')"
        )
    size = len(secret.encode("utf-8") if isinstance(secret, str) else secret)
    if config.get("ENV_NAME") == "production" and size < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY has {size} bytes: production needs at least {MIN_SECRET_KEY_BYTES} "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )
