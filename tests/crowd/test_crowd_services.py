"""The crowd's rules (cxactions.crowd.services), without the web: proposals, reviews, votes,
comments, "we tried it" reports, follows, notifications and merges, on SQLite and PostgreSQL.

``crowd_world`` and ``propose`` are shared with the page and permission tests of this folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role, User
from cxactions.crowd import services
from cxactions.crowd.models import Comment, CommentReport, Follow, Notification, Vote
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    CommentKind,
    NotificationKind,
    SolutionStatus,
    TriedOutcome,
)
from cxactions.impact.services import ImpactSettings, refresh_impact
from cxactions.library import services as library
from cxactions.library.models import Solution
from cxactions.plans.models import INCLUDE_MERGED, Adoption
from cxactions.search.service import SearchOptions, search
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from tests.factories import challenge, impact_run, solution, unit_tree

AUTHOR_NAME = "Zelda Quill"
AUTHOR_EMAIL = "zelda.quill@example.com"


@dataclass
class CrowdWorld:
    """Four stores in two districts, two challenges, one approved solution, and people:

    - ``author`` (staff at S1, named Zelda Quill) proposes things;
    - ``colleague`` (staff at S1) votes and comments;
    - ``stranger`` (staff at S3, the other district);
    - ``manager`` (of D1) and ``lead`` (a CX lead, named Lena Lead).
    """

    units: dict[str, Unit]
    queue: Challenge
    greet: Challenge
    till: Solution
    author: User
    colleague: User
    stranger: User
    manager: User
    lead: User


def crowd_world(db, make_user) -> CrowdWorld:
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    greet = challenge("STAFF-GREET", "Customers not greeted")
    till = solution(
        "SOP-TILL",
        "Open a till at three",
        challenges=[queue],
        summary="When three customers wait in the checkout queue, open another till.",
    )
    db.session.commit()
    author = make_user(Role.STAFF, units=[units["S1"]], email=AUTHOR_EMAIL)
    author.name = AUTHOR_NAME
    lead = make_user(Role.CX_LEAD, email="lena.lead@example.com")
    lead.name = "Lena Lead"
    db.session.commit()
    return CrowdWorld(
        units=units,
        queue=queue,
        greet=greet,
        till=till,
        author=author,
        colleague=make_user(Role.STAFF, units=[units["S1"]], email="colleague@example.com"),
        stranger=make_user(Role.STAFF, units=[units["S3"]], email="stranger@example.com"),
        manager=make_user(Role.MANAGER, units=[units["D1"]], email="manager@example.com"),
        lead=lead,
    )


PROPOSAL = {
    "title": "Greeter at the entrance",
    "kind": "sop",
    "language": "en",
    "summary": "A colleague says hello to every customer who walks in.",
    "body": "Put **one** person by the door at peak hours.",
    "steps": "Pick the greeter\nAgree the words",
    "challenges": ["STAFF-GREET"],
}


def propose(world: CrowdWorld, user: User | None = None, **changes: Any) -> Solution:
    """A proposal by ``user`` (the author by default); ``anonymous`` and ``improves`` pass
    through, other keys change the content."""
    options = {name: changes.pop(name) for name in ("anonymous", "improves") if name in changes}
    data = {**PROPOSAL, **changes}
    session = sa.orm.object_session(world.till)
    return services.submit_proposal(session, data, user or world.author, **options)


@pytest.fixture
def world(db, make_user) -> CrowdWorld:
    return crowd_world(db, make_user)


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def notes_of(db, user: User, kind: NotificationKind | None = None) -> list[Notification]:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def search_codes(db, words: str) -> list[str]:
    result = search(db.session, words, SearchOptions(doc_type="solution", per_page=50))
    return [hit.id for hit in result.results]


# --- Proposals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"kind": ""}, "kind"),
        ({"challenges": []}, "challenges"),
        ({"challenges": ["", ""]}, "challenges"),
        ({"challenges": ["NO-SUCH"]}, "challenges"),
    ],
)
def test_a_proposal_needs_a_title_a_kind_and_a_challenge(db, world, changes, field):
    before = count(db, Solution)
    with pytest.raises(RefusedChange) as refused:
        propose(world, **changes)
    assert refused.value.field == field
    db.session.rollback()
    assert count(db, Solution) == before
    assert count(db, Follow) == 0


def test_a_proposal_waits_pending_followed_by_its_author_from_their_unit(db, world):
    idea = propose(world, anonymous=True)
    db.session.expire_all()
    assert idea.status == SolutionStatus.PENDING
    assert idea.author_id == world.author.id
    assert idea.anonymous is True
    assert idea.origin_unit_id == world.units["S1"].id
    assert [c.code for c in idea.challenges] == ["STAFF-GREET"]
    assert idea.step_list == ["Pick the greeter", "Agree the words"]
    assert db.session.get(Follow, (world.author.id, idea.id)) is not None
    assert count(db, Follow) == 1
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "solution.create")
    ).all()
    assert event.details["status"] == "pending" and event.user_id == world.author.id


def test_the_origin_unit_is_the_authors_first_unit_and_none_without_units(db, world, make_user):
    two = make_user(Role.STAFF, units=[world.units["S4"], world.units["S3"]])
    first = two.units[0]  # units are ordered by name: Store 3 before Store 4
    assert first.code == "S3"
    assert propose(world, two).origin_unit_id == first.id
    nowhere = make_user(Role.STAFF)
    assert propose(world, nowhere, title="Another greeter").origin_unit_id is None


def test_a_pending_proposal_is_not_in_search_until_approved(db, world):
    idea = propose(world, title="Doorway welcome ritual", summary="Welcome ritual at the doorway.")
    assert idea.code not in search_codes(db, "doorway welcome ritual")
    services.review(idea, SolutionStatus.APPROVED, world.lead)
    assert idea.code in search_codes(db, "doorway welcome ritual")


def test_an_improvement_inherits_the_originals_challenges(db, world):
    better = propose(world, title="Open a till at two", challenges=[], improves=world.till)
    assert [c.code for c in better.challenges] == ["SPEED-QUEUE"]
    assert better.improves_id == world.till.id


def test_only_a_library_solution_can_be_improved(db, world):
    idea = propose(world)
    with pytest.raises(RefusedChange) as refused:
        propose(world, title="Better idea", improves=idea)
    assert refused.value.field == "improves"


def test_approving_an_improvement_rewrites_the_original_and_merges_the_proposal(db, world):
    original_id = world.till.id
    better = propose(
        world,
        title="Open a till at two",
        summary="Two waiting is enough.",
        body="Ring the bell at **two**.",
        steps="Watch the queue\nRing the bell",
        challenges=["STAFF-GREET"],
        improves=world.till,
    )
    services.set_vote(better, world.colleague, True)
    services.set_vote(world.till, world.colleague, True)  # counted once after the merge
    services.set_vote(better, world.stranger, True)
    services.add_comment(better, world.colleague, "Even better.")

    result = services.review(better, SolutionStatus.APPROVED, world.lead, "Nice.")

    db.session.expire_all()
    original = db.session.get(Solution, original_id)
    assert result.id == original_id
    assert (original.title, original.summary, original.body, original.step_list) == (
        "Open a till at two",
        "Two waiting is enough.",
        "Ring the bell at **two**.",
        ["Watch the queue", "Ring the bell"],
    )
    assert original.status == SolutionStatus.APPROVED and original.code == "SOP-TILL"
    assert sorted(c.code for c in original.challenges) == ["SPEED-QUEUE", "STAFF-GREET"]
    proposal = db.session.get(Solution, better.id)
    assert proposal.merged_into_id == original_id
    assert proposal.status == SolutionStatus.RETIRED
    assert services.vote_count(db.session, original) == 2
    assert count(db, Vote, Vote.solution_id == proposal.id) == 0
    assert [c.body for c in db.session.scalars(sa.select(Comment))] == ["Even better."]
    assert db.session.scalar(sa.select(Comment.solution_id)) == original_id
    (note,) = notes_of(db, world.author, NotificationKind.APPROVED)
    assert note.solution_id == original_id
    assert note.details == {"improvement": better.code, "note": "Nice."}


# --- Editing one's proposal ---------------------------------------------------------------------


def test_the_author_edits_their_pending_proposal_and_no_one_else(db, world):
    idea = propose(world)
    changed = services.edit_proposal(
        idea, {**PROPOSAL, "title": "Greeter at the door"}, world.author, anonymous=True
    )
    assert sorted(changed) == ["anonymous", "title"]
    db.session.expire_all()
    assert (idea.title, idea.anonymous) == ("Greeter at the door", True)
    with pytest.raises(RefusedChange):
        services.edit_proposal(
            idea, {**PROPOSAL, "title": "Mine now"}, world.colleague, anonymous=False
        )
    services.review(idea, SolutionStatus.APPROVED, world.lead)
    with pytest.raises(RefusedChange):
        services.edit_proposal(
            idea, {**PROPOSAL, "title": "Too late"}, world.author, anonymous=True
        )
    db.session.expire_all()
    assert idea.title == "Greeter at the door"


# --- Reviews ------------------------------------------------------------------------------------


def test_approval_and_rejection_tell_the_author(db, world):
    good, bad = propose(world), propose(world, title="Free sweets")
    services.review(good, SolutionStatus.APPROVED, world.lead)
    services.review(bad, SolutionStatus.REJECTED, world.lead, "Too costly.")
    approved = notes_of(db, world.author, NotificationKind.APPROVED)
    rejected = notes_of(db, world.author, NotificationKind.REJECTED)
    assert [(n.solution_id, n.actor_id, n.details) for n in approved] == [
        (good.id, world.lead.id, None)
    ]
    assert [(n.solution_id, n.details) for n in rejected] == [(bad.id, {"note": "Too costly."})]
    assert bad.review_note == "Too costly."
    assert notes_of(db, world.lead) == []


def test_a_rejection_needs_a_reason(db, world):
    idea = propose(world)
    with pytest.raises(RefusedChange):
        services.review(idea, SolutionStatus.REJECTED, world.lead, "   ")
    db.session.expire_all()
    assert idea.status == SolutionStatus.PENDING
    assert notes_of(db, world.author) == []


def test_edit_then_approve_saves_the_edits_and_approves(db, world):
    idea = propose(world)
    services.review(
        idea, SolutionStatus.APPROVED, world.lead, edits={"title": "Door greeter at peaks"}
    )
    db.session.expire_all()
    assert (idea.title, idea.status, idea.reviewed_by_id) == (
        "Door greeter at peaks",
        SolutionStatus.APPROVED,
        world.lead.id,
    )
    assert idea.code in search_codes(db, "door greeter peaks")


def test_a_refused_edit_approves_nothing(db, world):
    idea = propose(world)
    with pytest.raises(RefusedChange):
        services.review(idea, SolutionStatus.APPROVED, world.lead, edits={"title": ""})
    db.session.expire_all()
    assert (idea.title, idea.status) == (PROPOSAL["title"], SolutionStatus.PENDING)


def test_the_desk_lists_pending_proposals_oldest_first(db, world):
    newer, older, done = propose(world), propose(world, title="Older"), propose(world, title="X")
    older.created_at = datetime(2025, 1, 1)
    newer.created_at = datetime(2025, 6, 1)
    done.created_at = datetime(2024, 1, 1)
    db.session.commit()
    services.review(done, SolutionStatus.APPROVED, world.lead)
    queue = db.session.scalars(services.desk_submissions_query()).all()
    assert [item.id for item in queue] == [older.id, newer.id]
    assert services.desk_counts(db.session) == (2, 0)


# --- Votes --------------------------------------------------------------------------------------


def test_one_vote_per_person_and_undo(db, world):
    assert services.set_vote(world.till, world.colleague, True) == 1
    assert services.set_vote(world.till, world.colleague, True) == 1
    assert services.set_vote(world.till, world.stranger, True) == 2
    assert services.set_vote(world.till, world.colleague, False) == 1
    assert services.set_vote(world.till, world.colleague, False) == 1
    assert count(db, Vote) == 1


@pytest.mark.parametrize("closing", ["rejected", "retired", "merged"])
def test_votes_and_comments_are_closed_on_rejected_retired_and_merged(db, world, closing):
    idea = propose(world)
    services.set_vote(idea, world.colleague, True)
    if closing == "rejected":
        services.review(idea, SolutionStatus.REJECTED, world.lead, "No.")
    elif closing == "retired":
        services.review(idea, SolutionStatus.APPROVED, world.lead)
        services.review(idea, SolutionStatus.RETIRED, world.lead, "Old.")
    else:
        services.merge(idea, world.till, world.lead)
        services.set_vote(world.till, world.colleague, False)
    votes = count(db, Vote)
    assert not services.is_open(idea)
    with pytest.raises(RefusedChange) as refused:
        services.set_vote(idea, world.stranger, True)
    assert refused.value.field == "solution"
    with pytest.raises(RefusedChange):
        services.add_comment(idea, world.stranger, "Hello?")
    with pytest.raises(RefusedChange):
        services.add_tried_report(
            idea, world.stranger, outcome="worked", unit_code="S3", tried_on=date.today()
        )
    assert count(db, Vote) == votes
    assert count(db, Comment) == 0


# --- Comments -----------------------------------------------------------------------------------


def test_a_comment_tells_the_author_and_followers_but_not_the_commenter(db, world, make_user):
    idea = propose(world)
    follower = make_user(Role.STAFF)
    services.set_follow(idea, follower, True)
    comment = services.add_comment(idea, world.colleague, "  Nice idea.  ")
    assert comment.body == "Nice idea."
    told = {n.user_id for n in db.session.scalars(sa.select(Notification))}
    assert told == {world.author.id, follower.id}
    (note,) = notes_of(db, follower)
    assert (note.kind, note.comment_id, note.actor_id) == (
        NotificationKind.COMMENT,
        comment.id,
        world.colleague.id,
    )
    # The commenter follows from now on: the next comment reaches them, once.
    services.add_comment(idea, world.author, "Thanks!")
    assert len(notes_of(db, world.colleague)) == 1
    assert len(notes_of(db, world.author)) == 1  # not told of their own comment


def test_an_empty_or_too_long_comment_is_refused(db, world):
    with pytest.raises(RefusedChange):
        services.add_comment(world.till, world.colleague, "   ")
    with pytest.raises(RefusedChange):
        services.add_comment(world.till, world.colleague, "x" * (services.COMMENT_MAX + 1))
    assert count(db, Comment) == 0


def test_authors_edit_and_delete_their_own_comments_only(db, world):
    comment = services.add_comment(world.till, world.colleague, "First.")
    with pytest.raises(RefusedChange):
        services.edit_comment(comment, world.stranger, "Hijacked.")
    with pytest.raises(RefusedChange):
        services.delete_comment(comment, world.lead)
    assert services.edit_comment(comment, world.colleague, "First, edited.") is True
    assert services.edit_comment(comment, world.colleague, "First, edited.") is False
    assert comment.edited_at is not None
    services.delete_comment(comment, world.colleague)
    db.session.expire_all()
    assert (comment.body, comment.deleted_at is not None) == ("", True)
    assert count(db, Comment) == 1  # the row stays: the thread keeps its shape
    with pytest.raises(RefusedChange):
        services.edit_comment(comment, world.colleague, "Back again.")


def test_a_comment_is_reported_once_per_person_and_never_by_its_author(db, world):
    comment = services.add_comment(world.till, world.colleague, "Rude words.")
    services.report_comment(comment, world.stranger, "Rude.")
    with pytest.raises(RefusedChange):
        services.report_comment(comment, world.stranger, "Still rude.")
    with pytest.raises(RefusedChange):
        services.report_comment(comment, world.colleague, None)
    services.report_comment(comment, world.author, "")
    reports = db.session.scalars(sa.select(CommentReport).order_by(CommentReport.id)).all()
    assert [(r.user_id, r.reason) for r in reports] == [
        (world.stranger.id, "Rude."),
        (world.author.id, None),
    ]


def test_hiding_needs_a_reason_and_closes_the_reports_restoring_shows_again(db, world):
    comment = services.add_comment(world.till, world.colleague, "Rude words.")
    services.report_comment(comment, world.stranger, "Rude.")
    with pytest.raises(RefusedChange):
        services.moderate_comment(comment, world.lead, hide=True, reason=" ")
    assert comment.hidden is False
    services.moderate_comment(comment, world.lead, hide=True, reason="Unkind.")
    db.session.expire_all()
    assert (comment.hidden, comment.hidden_reason, comment.hidden_by_id) == (
        True,
        "Unkind.",
        world.lead.id,
    )
    assert db.session.scalars(services.desk_reports_query()).all() == []
    assert not services.can_change_comment(world.colleague, comment)  # hidden: no more edits
    services.moderate_comment(comment, world.lead, hide=False)
    db.session.expire_all()
    assert (comment.hidden, comment.hidden_reason) == (False, None)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_type == "comment")
    ).all()
    assert actions == ["comment.hide", "comment.restore"]


def test_keep_closes_the_reports_and_the_desk_lists_the_oldest_report_first(db, world):
    first = services.add_comment(world.till, world.colleague, "First.")
    second = services.add_comment(world.till, world.colleague, "Second.")
    late = services.report_comment(first, world.stranger, None)
    early = services.report_comment(second, world.stranger, None)
    services.report_comment(first, world.author, None)
    late.created_at, early.created_at = datetime(2025, 5, 1), datetime(2025, 4, 1)
    db.session.commit()
    assert [c.id for c in db.session.scalars(services.desk_reports_query())] == [
        second.id,
        first.id,
    ]
    assert services.desk_counts(db.session) == (0, 2)
    assert services.keep_comment(first, world.lead) == 2
    assert [c.id for c in db.session.scalars(services.desk_reports_query())] == [second.id]
    assert first.hidden is False
    assert count(db, CommentReport, CommentReport.resolved_by_id == world.lead.id) == 2


# --- "We tried it" ------------------------------------------------------------------------------


def tried(world, user, **changes):
    values = {"outcome": "worked", "unit_code": "S1", "tried_on": date(2026, 1, 5)}
    values.update(changes)
    return services.add_tried_report(world.till, user, today=date(2026, 3, 1), **values)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": None}, "outcome"),
        ({"outcome": "great"}, "outcome"),
        ({"unit_code": ""}, "unit"),
        ({"unit_code": "NOPE"}, "unit"),
        ({"unit_code": "S3"}, "unit"),  # the other district's store
        ({"unit_code": "D1"}, "unit"),  # above the user's store
        ({"tried_on": None}, "tried_on"),
        ({"tried_on": date(2026, 3, 2)}, "tried_on"),  # tomorrow
        ({"tried_on": date(2020, 1, 1)}, "tried_on"),  # more than five years back
    ],
)
def test_a_tried_report_is_checked(db, world, changes, field):
    with pytest.raises(RefusedChange) as refused:
        tried(world, world.colleague, **changes)
    assert refused.value.field == field
    assert count(db, Comment) == 0


def test_tried_reports_are_tallied_and_a_cx_lead_reports_for_any_unit(db, world, make_user):
    district = make_user(Role.STAFF, units=[world.units["D1"]])
    tried(world, world.colleague, tried_on=date(2026, 3, 1), body="Queues halved.")
    tried(world, district, outcome="mixed", unit_code="S2", tried_on=date(2021, 3, 2))
    tried(world, world.lead, outcome=TriedOutcome.DID_NOT_WORK, unit_code="S4")
    tried(world, world.stranger, outcome="did_not_work", unit_code="S3")
    gone = tried(world, world.stranger, outcome="worked", unit_code="S3")
    services.delete_comment(gone, world.stranger)
    view = services.crowd_view(db.session, world.till, world.colleague)
    assert (view.tally.worked, view.tally.mixed, view.tally.did_not_work) == (1, 1, 2)
    assert view.comments == [] and len(view.tried) == 5
    report = view.tried[0]
    assert (report.kind, report.outcome, report.unit.code, report.body) == (
        CommentKind.TRIED_IT,
        TriedOutcome.WORKED,
        "S1",
        "Queues halved.",
    )


def test_the_form_offers_the_units_a_person_may_report_for(db, world):
    codes = [unit.code for unit in services.report_units(db.session, world.colleague)]
    assert codes == ["S1"]
    assert len(services.report_units(db.session, world.lead)) == 7


# --- Notifications ------------------------------------------------------------------------------


def test_mark_read_touches_only_the_readers_notifications(db, world):
    idea = propose(world)
    services.add_comment(idea, world.colleague, "One.")
    services.add_comment(idea, world.stranger, "Two.")  # the author and the colleague hear
    services.add_comment(idea, world.stranger, "Three.")
    mine = [n.id for n in notes_of(db, world.author)]
    theirs = [n.id for n in notes_of(db, world.colleague)]
    assert len(mine) == 3 and len(theirs) == 2
    assert services.unread_count(db.session, world.author) == 3

    assert services.mark_read(db.session, world.author, [mine[0], *theirs]) == 1
    assert services.unread_count(db.session, world.author) == 2
    assert services.unread_count(db.session, world.colleague) == 2
    assert services.mark_read(db.session, world.author, []) == 0
    assert services.mark_read(db.session, world.author) == 2
    assert services.unread_count(db.session, world.author) == 0
    assert services.unread_count(db.session, world.colleague) == 2
    unread = db.session.scalars(services.notifications_query(world.author, unread_only=True))
    assert unread.all() == []


def test_mark_read_ignores_ids_that_are_no_notifications(db, world):
    idea = propose(world)
    services.add_comment(idea, world.colleague, "One.")
    (note,) = notes_of(db, world.author)
    junk = ["99999999999999999999", "²", "-1", "0", "abc", ""]
    assert services.mark_read(db.session, world.author, junk) == 0
    assert services.mark_read(db.session, world.author, [*junk, str(note.id)]) == 1
    assert services.unread_count(db.session, world.author) == 0


def test_a_merge_tells_the_duplicates_author_where_it_went(db, world):
    idea = propose(world, title="Third customer opens a till")
    services.merge(idea, world.till, world.lead, "Same fix.")
    (note,) = notes_of(db, world.author)
    assert (note.kind, note.solution_id, note.actor_id) == (
        NotificationKind.MERGED,
        world.till.id,
        world.lead.id,
    )
    assert note.details == {"merged": idea.code, "title": "Third customer opens a till"}
    assert services.submission_label(idea) == "merged"


def test_followers_hear_once_per_measured_solution_and_not_again_for_the_same_units(db, world):
    other = solution("SOP-OTHER", "Something else", challenges=[world.queue])
    db.session.commit()
    services.set_follow(world.till, world.colleague, True)
    services.set_follow(world.till, world.stranger, True)
    services.set_follow(other, world.stranger, True)
    first = impact_run({"SOP-TILL": (0.5, 0.1, 0.9, 1), "SOP-OTHER": (0.2, -0.1, 0.5, 2)})
    assert services.notify_measured(db.session, run=first) == 3
    db.session.commit()
    (note,) = notes_of(db, world.colleague)
    assert (note.kind, note.solution_id, note.actor_id) == (
        NotificationKind.MEASURED,
        world.till.id,
        None,
    )
    assert note.details == {"effect": 0.5, "ci_low": 0.1, "ci_high": 0.9, "n_units": 9}

    same = impact_run({"SOP-TILL": (0.6, 0.2, 1.0, 1), "SOP-OTHER": (0.2, -0.1, 0.5, 2)})
    assert services.notify_measured(db.session, run=same) == 0
    more = impact_run(
        {"SOP-TILL": (0.6, 0.2, 1.0, 1), "SOP-OTHER": (0.2, -0.1, 0.5, 2)}, n_units=12
    )
    assert services.notify_measured(db.session, run=more) == 3
    db.session.commit()
    assert len(notes_of(db, world.colleague, NotificationKind.MEASURED)) == 2
    assert len(notes_of(db, world.stranger, NotificationKind.MEASURED)) == 4


def test_a_refresh_of_the_estimates_tells_followers_of_what_was_measured(db, make_user):
    from tests.impact_world import build_world

    impact = build_world()
    good, never = impact.solutions["SOL-GOOD"], impact.solutions["SOL-NEVER"]
    fan = make_user(Role.STAFF)
    services.set_follow(good, fan, True)
    services.set_follow(never, fan, True)

    refresh_impact(db.session, ImpactSettings(), trigger="test")
    measured = notes_of(db, fan, NotificationKind.MEASURED)
    assert [note.solution_id for note in measured] == [good.id]  # never adopted: not measured
    assert measured[0].details["n_units"] == 8
    assert measured[0].details["effect"] == pytest.approx(1.0, abs=0.5)

    refresh_impact(db.session, ImpactSettings(), trigger="test")  # the same units: nothing new
    assert len(notes_of(db, fan, NotificationKind.MEASURED)) == 1


# --- Merging ------------------------------------------------------------------------------------


def test_a_merge_moves_votes_comments_reports_follows_and_plan_items(db, world, make_user):
    s1, s2 = world.units["S1"], world.units["S2"]
    dup = propose(world, title="Third customer opens a till", challenges=["SPEED-QUEUE"])
    services.review(dup, SolutionStatus.APPROVED, world.lead)
    both, only_dup, only_till = world.colleague, world.stranger, make_user(Role.STAFF)
    for voter in (both, only_dup):
        services.set_vote(dup, voter, True)
    for voter in (both, only_till):
        services.set_vote(world.till, voter, True)
    services.add_comment(dup, world.colleague, "Works here.")
    tried_dup = services.add_tried_report(
        dup, world.colleague, outcome="worked", unit_code="S1", tried_on=date.today()
    )
    services.set_follow(world.till, world.colleague, True)  # follows both already
    live = Adoption(unit=s1, solution=world.till, status=AdoptionStatus.PLANNED)
    folded = Adoption(
        unit=s1, solution=dup, status=AdoptionStatus.IMPLEMENTED, effective_on=date(2025, 3, 3)
    )
    moved = Adoption(unit=s2, solution=dup, status=AdoptionStatus.IN_PROGRESS)
    db.session.add_all([live, folded, moved])
    db.session.commit()
    ids = {"live": live.id, "folded": folded.id, "moved": moved.id}
    followers_before = {
        tuple(row) for row in db.session.execute(sa.select(Follow.user_id, Follow.solution_id))
    }
    assert (world.colleague.id, dup.id) in followers_before
    assert (world.author.id, dup.id) in followers_before

    plan = services.merge(dup, world.till, world.lead, "Same fix.")

    assert (plan.votes_moved, plan.votes_dropped, plan.comments_moved) == (1, 1, 2)
    db.session.expire_all()
    till = db.session.get(Solution, world.till.id)
    voters = db.session.scalars(sa.select(Vote.user_id).where(Vote.solution_id == till.id))
    assert sorted(voters) == sorted([both.id, only_dup.id, only_till.id])
    assert count(db, Vote, Vote.solution_id == dup.id) == 0
    assert services.vote_count(db.session, till) == 3
    comments = db.session.scalars(sa.select(Comment).order_by(Comment.id)).all()
    assert [(c.solution_id, c.kind) for c in comments] == [
        (till.id, CommentKind.COMMENT),
        (till.id, CommentKind.TRIED_IT),
    ]
    view = services.crowd_view(db.session, till, world.author)
    assert view.tally.worked == 1 and [c.id for c in view.tried] == [tried_dup.id]
    follows = db.session.execute(sa.select(Follow.user_id, Follow.solution_id)).all()
    assert count(db, Follow, Follow.solution_id == dup.id) == 0
    assert sorted(user for user, solution_id in follows if solution_id == till.id) == sorted(
        [world.colleague.id, world.author.id]
    )  # the colleague followed both: once
    # Plan items: the one at S2 moves; S1 keeps one live item with the earliest implementation
    # and the duplicate's item stays as a record, out of every ordinary query.
    items = db.session.scalars(sa.select(Adoption).order_by(Adoption.id)).all()
    assert [(a.id, a.unit_id, a.solution_id) for a in items] == [
        (ids["live"], s1.id, till.id),
        (ids["moved"], s2.id, till.id),
    ]
    assert (items[0].status, items[0].effective_on) == (
        AdoptionStatus.IMPLEMENTED,
        date(2025, 3, 3),
    )
    record = db.session.scalar(
        sa.select(Adoption)
        .where(Adoption.id == ids["folded"])
        .execution_options(**{INCLUDE_MERGED: True})
    )
    assert (record.solution_id, record.merged_into_id) == (dup.id, ids["live"])
    assert services.reuse_counts(db.session, [till.id, dup.id]) == {till.id: 2}
    duplicate = db.session.get(Solution, dup.id)
    assert (duplicate.status, duplicate.merged_into_id) == (SolutionStatus.RETIRED, till.id)
    assert library.resolve_merged(duplicate).id == till.id
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "solution.merge"))
    assert audit.details["follows_moved"] == 1


def test_merging_into_a_pending_proposal_is_refused_and_moves_nothing(db, world):
    idea = propose(world)
    services.set_vote(world.till, world.colleague, True)
    with pytest.raises(RefusedChange):
        services.merge(world.till, idea, world.lead)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Vote.solution_id)) == world.till.id
    assert world.till.merged_into_id is None
    assert notes_of(db, world.author, NotificationKind.MERGED) == []


# --- What pages read ----------------------------------------------------------------------------


def test_anonymous_authors_are_named_only_to_cx_leads_and_themselves(db, world):
    idea = propose(world, anonymous=True)
    hidden = services.attribution(world.colleague, idea)
    assert (hidden.name, hidden.unit, hidden.anonymous) == (None, None, True)
    for reader in (world.lead, world.author):
        shown = services.attribution(reader, idea)
        assert (shown.name, shown.unit) == (AUTHOR_NAME, "Store 1")
    open_idea = propose(world, title="Signed idea")
    assert services.attribution(world.colleague, open_idea).name == AUTHOR_NAME
    assert services.attribution(world.colleague, world.till) is None  # the library's own


def test_credits_count_the_units_that_adopted_each_solution(db, world):
    idea = propose(world)
    services.review(idea, SolutionStatus.APPROVED, world.lead)
    db.session.add_all(
        [
            Adoption(unit=world.units["S1"], solution=idea, status=AdoptionStatus.PLANNED),
            Adoption(unit=world.units["S2"], solution=idea, status=AdoptionStatus.ABANDONED),
            Adoption(unit=world.units["S3"], solution=world.till, status=AdoptionStatus.PLANNED),
        ]
    )
    db.session.commit()
    credits = services.credits(db.session, world.colleague, [idea.id, world.till.id])
    assert credits[idea.id].reuse == 2 and credits[idea.id].attribution.name == AUTHOR_NAME
    assert credits[world.till.id].reuse == 1 and credits[world.till.id].attribution is None


def test_my_submissions_newest_first_with_their_states(db, world):
    first, second = propose(world, title="First"), propose(world, title="Second")
    first.created_at = datetime.now() - timedelta(days=2)
    db.session.commit()
    services.review(second, SolutionStatus.REJECTED, world.lead, "Not now.")
    mine = db.session.scalars(services.my_submissions_query(world.author)).all()
    assert [(s.title, services.submission_label(s)) for s in mine] == [
        ("Second", "rejected"),
        ("First", "pending"),
    ]
    assert db.session.scalars(services.my_submissions_query(world.colleague)).all() == []
