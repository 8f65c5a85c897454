"""Reminders: each manager's e-mail digest of the plan items that need them.

``build_digests`` decides who gets what and returns plain digest objects (no SMTP, no
templates); ``render`` writes one digest as an e-mail in its recipient's language (plain text
and an HTML alternative, ``templates/email/reminders.*``); ``send_digests`` sends them through
Flask-Mail, one transaction per recipient. ``cxactions reminders`` (``plans/cli.py``) runs them.

Who gets what: every active manager, about the units they look after (their units and
everything below them, as on the pages). A digest lists the active plan items of that scope
that are overdue or due within ``DUE_SOON_DAYS`` days, and the implemented items whose effect
was measured since the manager's last digest. A manager with nothing to report gets no e-mail.
"""

from __future__ import annotations

import smtplib
import socket
from calendar import monthrange
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from cxactions.auth.models import User
from cxactions.foundations import trees
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import mail
from cxactions.foundations.i18n import DEFAULT_LANGUAGE, supported
from cxactions.foundations.translation import (
    _,
    format_day,
    format_number,
    format_percent,
    format_signed,
    ngettext,
    period_count,
)
from cxactions.foundations.vocabulary import AdoptionStatus, Role
from cxactions.library.models import Solution
from cxactions.plans.models import (
    ACTIVE_STATUSES,
    DUE_SOON_DAYS,
    Adoption,
    DueState,
    PlanStep,
    due_state,
    percent_complete,
)
from cxactions.units.models import Unit

# A regional manager looks after hundreds of stores: past this many due and overdue items (the
# overdue ones first) the digest says how many more there are and links to the plans instead.
MAX_DUE_ITEMS = 50
MAX_MEASURED_ITEMS = 20
# Flask-Mail opens its connections without a time limit: a silent server would hang the run.
SMTP_TIMEOUT_SECONDS = 30
_DUE_SOON = timedelta(days=DUE_SOON_DAYS)


# --- What a digest holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """A unit's "did it work here?" figure for one implemented plan item, with the solution's
    company-wide estimate beside it (one unit is a noisy measure; the pooled one is the figure
    to trust)."""

    here: float  # observed minus expected, averaged over the effect periods with responses
    periods: int  # effect periods with responses behind ``here``
    period: str  # their grain: week, month, quarter or year
    pooled_effect: float | None = None  # the solution's estimate across its adopting units...
    pooled_low: float | None = None  # ... with its 95% interval
    pooled_high: float | None = None
    pooled_units: int = 0


@dataclass(frozen=True)
class Measurements:
    """Where the "did it work here?" figures come from. The impact feature computes them and
    sits above plans, so the command passes them in (``plans/cli.py``).

    ``finished_at``: when the newest impact run finished (None: never), so figures are news to
    a manager whose last digest is older; ``period`` and ``window``: the impact settings, to
    tell when an item's effect window closes; ``measure``: the figure of one implemented item,
    or None when there is nothing to compare yet.
    """

    finished_at: datetime | None
    period: str
    window: int
    measure: Callable[[Adoption], Measurement | None]


@dataclass(frozen=True)
class DueItem:
    """An active plan item that is overdue or due soon."""

    adoption_id: int
    unit_code: str
    unit_name: str
    solution_title: str
    owner: str | None
    due_on: date
    state: DueState
    days: int  # days late when overdue, else days left (0: due today)
    percent_complete: int
    url: str


@dataclass(frozen=True)
class MeasuredItem:
    """An implemented plan item with a new "did it work here?" figure."""

    adoption_id: int
    unit_code: str
    unit_name: str
    solution_title: str
    effective_on: date
    measurement: Measurement
    url: str  # the unit's "did it work here?" page


@dataclass
class Digest:
    """One manager's digest: what the e-mail lists, capped, and the full counts."""

    user_id: int
    email: str
    name: str
    language: str
    today: date
    base_url: str
    built_at: datetime  # becomes the recipient's ``last_digest_at`` once sent
    overdue: list[DueItem] = field(default_factory=list)  # shown, most late first
    due_soon: list[DueItem] = field(default_factory=list)  # shown, soonest first
    measured: list[MeasuredItem] = field(default_factory=list)  # shown
    overdue_total: int = 0
    due_soon_total: int = 0
    measured_total: int = 0
    more_url: str = ""  # where every item of the scope is listed

    @property
    def is_empty(self) -> bool:
        return not (self.overdue_total or self.due_soon_total or self.measured_total)

    @property
    def hidden_due(self) -> int:
        """Due and overdue items left out of the e-mail by ``MAX_DUE_ITEMS``."""
        return self.overdue_total + self.due_soon_total - len(self.overdue) - len(self.due_soon)

    @property
    def hidden_measured(self) -> int:
        return self.measured_total - len(self.measured)

    def counts(self) -> str:
        """The command's line, in English: "2 overdue, 1 due soon, 1 measured"."""
        return (
            f"{self.overdue_total} overdue, {self.due_soon_total} due soon, "
            f"{self.measured_total} measured"
        )


# --- Building the digests (no SMTP, no templates) --------------------------------------------


def build_digests(
    session: Session,
    *,
    today: date,
    base_url: str,
    measurements: Measurements | None = None,
    now: datetime | None = None,
) -> list[Digest]:
    """A digest for every active manager, by e-mail address (empty ones included: see
    ``Digest.is_empty``). ``today`` decides what is overdue or due soon; ``base_url`` is the
    app's absolute address for the links; without ``measurements`` no effects are reported."""
    built_at = now or utcnow()
    base_url = base_url.rstrip("/")
    managers = session.scalars(
        select(User)
        .where(User.role == Role.MANAGER, User.active.is_(True))
        .options(selectinload(User.units))
        .order_by(User.email)
    ).all()
    due = _due_items(session, today, base_url)
    candidates = _measurable_items(session, measurements, today, managers)
    figures: dict[int, Measurement | None] = {}  # measured once, whoever else looks after it
    digests = []
    for manager in managers:
        scope = trees.subtree_ids(session, Unit, [unit.id for unit in manager.units])
        digest = Digest(
            user_id=manager.id,
            email=manager.email,
            name=manager.display_name,
            language=supported(manager.locale) or DEFAULT_LANGUAGE,
            today=today,
            base_url=base_url,
            built_at=built_at,
            more_url=_more_url(base_url, manager.units),
        )
        mine = [item for unit_id, item in due if unit_id in scope]
        overdue = [item for item in mine if item.state == DueState.OVERDUE]
        soon = [item for item in mine if item.state == DueState.DUE_SOON]
        digest.overdue_total, digest.due_soon_total = len(overdue), len(soon)
        digest.overdue = overdue[:MAX_DUE_ITEMS]
        digest.due_soon = soon[: MAX_DUE_ITEMS - len(digest.overdue)]
        if measurements is not None and _has_news(measurements, manager.last_digest_at):
            since = _reported_since(manager, today)
            measured = []
            for adoption in candidates:
                if adoption.unit_id not in scope or not _window_open_on(
                    adoption.effective_on, measurements, since
                ):
                    continue
                if adoption.id not in figures:
                    figures[adoption.id] = measurements.measure(adoption)
                if figures[adoption.id] is not None:
                    measured.append(_measured_item(adoption, figures[adoption.id], base_url))
            digest.measured_total = len(measured)
            digest.measured = measured[:MAX_MEASURED_ITEMS]
        digests.append(digest)
    return digests


def _due_items(session: Session, today: date, base_url: str) -> list[tuple[int, DueItem]]:
    """Every active item of the company that is overdue or due soon, with its unit id: most late
    first, then by unit and solution. Read as plain rows, steps counted by one GROUP BY (overdue
    items pile up across a company)."""
    due = (
        select(Adoption.id)
        .where(
            Adoption.status.in_(ACTIVE_STATUSES),
            Adoption.due_on.is_not(None),
            Adoption.due_on <= today + _DUE_SOON,
        )
        .scalar_subquery()
    )
    steps = {
        adoption_id: (done, total)
        for adoption_id, done, total in session.execute(
            select(PlanStep.adoption_id, func.count(PlanStep.done_at), func.count())
            .where(PlanStep.adoption_id.in_(due))
            .group_by(PlanStep.adoption_id)
        )
    }
    rows = session.execute(
        select(
            Adoption.id,
            Adoption.unit_id,
            Adoption.status,
            Adoption.owner,
            Adoption.due_on,
            Unit.code,
            Unit.name,
            Solution.title,
        )
        .join(Unit, Unit.id == Adoption.unit_id)
        .join(Solution, Solution.id == Adoption.solution_id)
        .where(Adoption.id.in_(due))
    ).all()
    items = []
    for adoption_id, unit_id, status, owner, due_on, unit_code, unit_name, title in rows:
        state = due_state(status, due_on, today)
        if state is None:
            continue
        done, total = steps.get(adoption_id, (0, 0))
        days = (today - due_on).days
        item = DueItem(
            adoption_id=adoption_id,
            unit_code=unit_code,
            unit_name=unit_name,
            solution_title=title,
            owner=owner,
            due_on=due_on,
            state=state,
            days=days if state == DueState.OVERDUE else -days,
            percent_complete=percent_complete(done, total, status),
            url=f"{base_url}/units/{quote(unit_code, safe='')}/plan/{adoption_id}",
        )
        items.append((unit_id, item))
    items.sort(key=lambda pair: (pair[1].due_on, pair[1].unit_name, pair[1].solution_title))
    return items


def _has_news(measurements: Measurements, last_digest_at: datetime | None) -> bool:
    """An impact run finished since the manager's last digest (or they never had one)."""
    finished = measurements.finished_at
    return finished is not None and (last_digest_at is None or finished > last_digest_at)


def _reported_since(manager: User, today: date) -> date:
    """The day from which a manager hears of effects: their last digest, or for a first digest
    the last ``DUE_SOON_DAYS`` days."""
    return manager.last_digest_at.date() if manager.last_digest_at else today - _DUE_SOON


def _measurable_items(
    session: Session, measurements: Measurements | None, today: date, managers: Iterable[User]
) -> list[Adoption]:
    """Implemented items some manager may hear of (see ``_window_open_on``), by unit name and
    solution title."""
    if measurements is None:
        return []
    days = [
        _reported_since(manager, today)
        for manager in managers
        if _has_news(measurements, manager.last_digest_at)
    ]
    if not days:
        return []
    adoptions = session.scalars(
        select(Adoption)
        .where(
            Adoption.status == AdoptionStatus.IMPLEMENTED,
            Adoption.effective_on.is_not(None),
            Adoption.effective_on <= today,
        )
        .options(selectinload(Adoption.unit), selectinload(Adoption.solution))
    ).all()
    found = [
        item for item in adoptions if _window_open_on(item.effective_on, measurements, min(days))
    ]
    found.sort(key=lambda item: (item.unit.name, item.solution.title))
    return found


def _window_open_on(effective_on: date, measurements: Measurements, day: date) -> bool:
    """Whether an item's effect window (``window`` periods from the date it took effect; 0:
    never closes) was still open on ``day``.

    Why: every import is followed by an impact run that recomputes every figure. An item is
    reported while its effect is being measured, and once more after its window closes, then
    no longer: the digest stays news, not a list of everything ever implemented.
    """
    if measurements.window <= 0:
        return True
    return window_end(effective_on, measurements.period, measurements.window) > day


def window_end(effective_on: date, period: str, window: int) -> date:
    """``window`` periods after ``effective_on``: never before the window's true end, which
    counts from the first day of the period the item took effect in."""
    if period == "week":
        return effective_on + timedelta(weeks=window)
    months = {"month": 1, "quarter": 3, "year": 12}.get(period, 1) * window
    year, month = divmod(effective_on.month - 1 + months, 12)
    year += effective_on.year
    return date(year, month + 1, min(effective_on.day, monthrange(year, month + 1)[1]))


def _measured_item(adoption: Adoption, measurement: Measurement, base_url: str) -> MeasuredItem:
    unit, solution = adoption.unit, adoption.solution
    return MeasuredItem(
        adoption_id=adoption.id,
        unit_code=unit.code,
        unit_name=unit.name,
        solution_title=solution.title,
        effective_on=adoption.effective_on,
        measurement=measurement,
        url=(
            f"{base_url}/units/{quote(unit.code, safe='')}"
            f"/adoptions/{quote(solution.code, safe='')}"
        ),
    )


def _more_url(base_url: str, units: list[Unit]) -> str:
    """The roll-up of the manager's plans (``plans/rollup_views.py``): their unit's, or the
    one of all their units when they look after several."""
    if len(units) == 1:
        return f"{base_url}/units/{quote(units[0].code, safe='')}/plans"
    return f"{base_url}/plans"


# --- Words (translated: call them in the recipient's language) -------------------------------


def subject(digest: Digest) -> str:
    """ "cxactions: 2 overdue, 1 due this week, 1 measured"."""
    parts = []
    if digest.overdue_total:
        parts.append(ngettext("%(num)d overdue", "%(num)d overdue", digest.overdue_total))
    if digest.due_soon_total:
        parts.append(
            ngettext("%(num)d due this week", "%(num)d due this week", digest.due_soon_total)
        )
    if digest.measured_total:
        parts.append(
            ngettext("%(num)d effect measured", "%(num)d effects measured", digest.measured_total)
        )
    return _("cxactions: %(summary)s", summary=", ".join(parts))


def due_words(item: DueItem) -> str:
    """ "Due 1 Jun 2024, 4 days late" or "Due 8 Jun 2024, in 3 days"."""
    day = format_day(item.due_on)
    if item.state == DueState.OVERDUE:
        late = ngettext("%(num)d day late", "%(num)d days late", item.days)
        return _("Due %(day)s, %(late)s", day=day, late=late)
    if item.days == 0:
        return _("Due today, %(day)s", day=day)
    left = ngettext("in %(num)d day", "in %(num)d days", item.days)
    return _("Due %(day)s, %(left)s", day=day, left=left)


def owner_words(item: DueItem) -> str:
    if item.owner:
        return _("Owner: %(owner)s", owner=item.owner)
    return _("No owner named")


def progress_words(item: DueItem) -> str:
    return _("%(percent)s complete", percent=format_percent(item.percent_complete / 100))


def measured_words(item: MeasuredItem) -> list[str]:
    """The figure here, then the company-wide one: "Measured here: +0.3 points over 6 weeks
    (observed against expected)." and "Across the 8 units that implemented it: +0.9 points
    (95% interval +0.6 to +1.2)."."""
    figure = item.measurement
    lines = [
        _(
            "Measured here: %(effect)s points over %(periods)s (observed against expected).",
            effect=format_signed(figure.here, 1),
            periods=period_count(figure.periods, figure.period),
        )
    ]
    if (
        figure.pooled_effect is not None
        and figure.pooled_low is not None
        and figure.pooled_high is not None
    ):
        lines.append(
            ngettext(
                "Across the %(count)s unit that implemented it: %(effect)s points (95%% "
                "interval %(low)s to %(high)s).",
                "Across the %(count)s units that implemented it: %(effect)s points (95%% "
                "interval %(low)s to %(high)s).",
                figure.pooled_units,
                count=format_number(figure.pooled_units),
                effect=format_signed(figure.pooled_effect, 1),
                low=format_signed(figure.pooled_low, 1),
                high=format_signed(figure.pooled_high, 1),
            )
        )
    else:
        lines.append(_("Too few units have implemented it yet for a company-wide estimate."))
    return lines


# --- Rendering and sending --------------------------------------------------------------------


@contextmanager
def in_language(digest: Digest) -> Iterator[None]:
    """Messages, numbers and dates in the recipient's language.

    ``foundations.i18n`` formats numbers and dates in the language of the current request
    only, and a command has none: a request context at ``BASE_URL`` carries the forced locale.
    """
    with (
        current_app.test_request_context("/", base_url=digest.base_url),
        force_locale(digest.language),
    ):
        yield


def render(digest: Digest) -> Message:
    """The digest as an e-mail in its recipient's language: plain text, and HTML beside it."""
    with in_language(digest):
        context = {
            "digest": digest,
            "subject": subject(digest),
            "due_words": due_words,
            "owner_words": owner_words,
            "progress_words": progress_words,
            "measured_words": measured_words,
            "due_soon_days": DUE_SOON_DAYS,
        }
        return Message(
            subject=context["subject"],
            recipients=[digest.email],
            body=render_template("email/reminders.txt", **context),
            html=render_template("email/reminders.html", **context),
        )


@dataclass
class Outcome:
    """What happened to one digest: sent, or the reason it was not."""

    digest: Any  # a Digest, or another feature's digest sent with ``send_all``
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


class CannotConnect(Exception):
    """The SMTP server could not be reached or refused to start a session: nothing more can
    be sent this run."""


class _Sender:
    """One SMTP session for the whole run, opened at the first message and opened again after
    a message broke it."""

    def __init__(self) -> None:
        self.connection = None

    def send(self, message: Message) -> None:
        if self.connection is not None:
            try:
                self.connection.send(message)
                return
            except smtplib.SMTPServerDisconnected:
                # Servers drop idle sessions: one more try, on a new one.
                self.close()
        self._open()
        self.connection.send(message)

    def _open(self) -> None:
        connection = mail.connect()
        try:
            # What ``with mail.connect()`` does, kept open across messages: connect, STARTTLS
            # and sign in as configured (or nothing when sending is suppressed).
            self.connection = connection.__enter__()
        except (smtplib.SMTPException, OSError) as error:
            raise CannotConnect(_server_error(error)) from error

    def close(self) -> None:
        host = self.connection.host if self.connection is not None else None
        self.connection = None
        if host is None:
            return
        try:
            host.quit()
        except (smtplib.SMTPException, OSError):
            host.close()


def _server_error(error: BaseException) -> str:
    config = current_app.config
    where = f"{config.get('MAIL_SERVER')}:{config.get('MAIL_PORT')}"
    return f"cannot send through the SMTP server {where}: {describe_error(error)}"


def describe_error(error: BaseException) -> str:
    """An SMTP or network failure in one line."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{address} ({code} {_text(reason)})"
            for address, (code, reason) in error.recipients.items()
        )
        return f"the server refused the recipient: {refused}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, TimeoutError):
        return f"no answer within {SMTP_TIMEOUT_SECONDS} seconds"
    text = str(error) or type(error).__name__
    return " ".join(text.split())


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    # Flask-Mail creates its SMTP sockets with the default time-out (none): set one for them.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def send_digests(
    session: Session,
    digests: Iterable[Digest],
    *,
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send every digest with something to report; returns what happened to each.

    After each message the server accepted, the recipient's ``last_digest_at`` is set and
    committed (one transaction per recipient). See :func:`send_all`.
    """
    return send_all(
        session,
        (digest for digest in digests if not digest.is_empty),
        render=render,
        record=_record_digest,
        report=report,
    )


def _record_digest(session: Session, digest: Digest) -> None:
    session.execute(
        update(User).where(User.id == digest.user_id).values(last_digest_at=digest.built_at)
    )


def send_all(
    session: Session,
    digests: Iterable[Any],
    *,
    render: Callable[[Any], Message],
    record: Callable[[Session, Any], None],
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send each digest as ``render`` makes it, over one SMTP session; returns what happened.

    Once the server accepted a message, ``record`` notes it and the note is committed (one
    transaction per recipient), so a run never repeats what it sent. A message refused for one
    recipient is reported and the others still go; a server that cannot be reached fails the
    rest of the run, with nothing recorded for them. ``report`` hears of each outcome.
    """
    outcomes: list[Outcome] = []
    sender = _Sender()
    unreachable: str | None = None
    with _time_limit(SMTP_TIMEOUT_SECONDS):
        try:
            for digest in digests:
                outcome = Outcome(digest, unreachable)
                if unreachable is None:
                    try:
                        outcome.error = _send_one(session, sender, render(digest), digest, record)
                    except CannotConnect as error:
                        unreachable = outcome.error = str(error)
                outcomes.append(outcome)
                if report is not None:
                    report(outcome)
        finally:
            sender.close()
    return outcomes


def _send_one(
    session: Session,
    sender: _Sender,
    message: Message,
    digest: Any,
    record: Callable[[Session, Any], None],
) -> str | None:
    """Send one message and record it; the reason when it failed. Raises ``CannotConnect``."""
    try:
        sender.send(message)
    except (smtplib.SMTPException, OSError) as error:
        sender.close()  # the session may be broken: the next message opens a new one
        return describe_error(error)
    try:
        record(session, digest)
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        return f"sent, but not recorded (the next digest repeats what it said): {error}"
    return None
