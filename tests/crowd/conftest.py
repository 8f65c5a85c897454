"""The crowd tests reuse the reminders' real SMTP server and command runner (the notifications
digest goes out with `cxactions reminders`)."""

from tests.plans.test_reminders import cli, smtp  # noqa: F401  (fixtures)
