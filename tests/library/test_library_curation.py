"""Curating the library: create, edit, review, retire and merge solutions, through the web and
the services, each audited, refused for non-curators, and followed by the search index."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.crowd.models import Comment, Vote
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.versions import current_data_version
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    ChallengeStatus,
    Level,
    SolutionKind,
    SolutionStatus,
)
from cxactions.library import services
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption, PlanStep
from cxactions.search.models import SearchOutbox
from cxactions.search.service import SearchOptions, search
from tests.factories import challenge, small_library, solution, unit_tree
from tests.pages import visible_text


def found(query: str, **options) -> set[str]:
    """Codes of the solutions ``search`` returns, for staff unless ``curator=True``."""
    result = search(_db.session, query, SearchOptions(doc_type="solution", per_page=50, **options))
    return {hit.id for hit in result.results}


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def outbox_rows(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox))


@pytest.fixture
def library(db):
    """Two challenges, an approved solution, a pending proposal and a retired challenge: the
    small library without categories or training, its proposal PROP-SMILE on STAFF-GREET."""
    lib = small_library(
        categories=False,
        training=False,
        pending=False,
        solutions={
            "PROP-SMILE": {
                "title": "Smile marmalade",
                "challenges": ["STAFF-GREET"],
                "status": SolutionStatus.PENDING,
            }
        },
    )
    return {
        "queue": lib["SPEED-QUEUE"],
        "greet": lib["STAFF-GREET"],
        "till": lib["SOP-TILL"],
        "pending": lib["PROP-SMILE"],
    }


@pytest.fixture
def curator(make_user):
    return make_user(Role.CX_LEAD)


# --- Create ------------------------------------------------------------------------------


def test_a_curator_adds_a_solution_through_the_form_and_search_finds_it(db, library, client_as):
    client = client_as(Role.CX_LEAD)
    assert "New solution" in client.get("/solutions").get_data(as_text=True)
    form = client.get("/solutions/new").get_data(as_text=True)
    assert 'name="title"' in form and "Long checkout queues" in form
    assert "Fax replies" not in form  # retired challenges are not offered
    response = client.post(
        "/solutions/new",
        data={
            "code": "TRN-ZEPHYR",
            "title": "Zephyr queue drill",
            "kind": "training",
            "language": "en",
            "summary": "Practise opening a till fast.",
            "body": "## Why\n\nQueues **hurt**.",
            "steps": "Count\n\nCall a backup\n",
            "effort": "low",
            "cost": "",
            "owner": "Store operations",
            "challenges": ["SPEED-QUEUE", "STAFF-GREET"],
            "status": "approved",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith("/solutions/TRN-ZEPHYR")
    created = db.session.scalar(sa.select(Solution).where(Solution.code == "TRN-ZEPHYR"))
    assert created.kind == SolutionKind.TRAINING and created.status == SolutionStatus.APPROVED
    assert created.steps == "Count\nCall a backup"
    assert created.effort == Level.LOW and created.cost is None
    assert {c.code for c in created.challenges} == {"SPEED-QUEUE", "STAFF-GREET"}
    assert created.reviewed_by_id is not None and created.author_id is not None
    (event,) = events(db, "solution.create")
    assert event.details["code"] == "TRN-ZEPHYR" and event.user_id == created.author_id
    assert "TRN-ZEPHYR" in found("zephyr")
    page = client.get("/solutions/TRN-ZEPHYR").get_data(as_text=True)
    assert "was added as TRN-ZEPHYR" in page and "<strong>hurt</strong>" in page


def test_without_a_code_one_is_made_from_the_title(db, library, curator):
    first = services.create_solution(
        db.session, {"title": "Café d'accueil à l'entrée!", "kind": "sop"}, curator
    )
    second = services.create_solution(
        db.session, {"title": "Café d'accueil à l'entrée", "kind": "sop"}, curator
    )
    assert first.code == "CAFE-D-ACCUEIL-A-L-ENTREE"
    assert second.code == "CAFE-D-ACCUEIL-A-L-ENTREE-2"
    assert first.status == SolutionStatus.APPROVED and first.language == "en"


def test_a_staff_member_s_solution_is_a_draft_and_may_not_be_approved(db, library, make_user):
    staff = make_user(Role.STAFF)
    draft = services.create_solution(db.session, {"title": "My idea", "kind": "other"}, staff)
    assert draft.status == SolutionStatus.DRAFT
    with pytest.raises(RefusedChange, match="Only a CX lead"):
        services.create_solution(
            db.session, {"title": "Mine", "kind": "other", "status": "approved"}, staff
        )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "SOP-TILL"}, "code", "already used by another solution"),
        ({"code": "new"}, "code", "reserved"),
        ({"code": "two words"}, "code", "may only hold letters"),
        ({"title": "  "}, "title", "needs a title"),
        ({"title": "x" * 201}, "title", "keep it to 200"),
        ({"kind": "poster"}, "kind", "“poster” is not one of: training, sop, asset, other"),
        ({"effort": "huge"}, "effort", "The effort “huge”"),
        ({"language": "english"}, "language", "not a language code"),
        ({"challenges": ["SPEED-QUEUE", "NOPE"]}, "challenges", "Unknown challenge: NOPE"),
        ({"challenges": ["OLD"]}, "challenges", "OLD is retired"),
        ({"status": "retired"}, "status", "not retired"),
        ({"colour": "red"}, None, "Unknown solution field: colour"),
    ],
)
def test_invalid_input_is_refused_with_a_specific_message(
    db, library, curator, data, field, message
):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Solution))
    with pytest.raises(RefusedChange, match=re.escape(message)) as error:
        services.create_solution(db.session, {"title": "Fine", "kind": "sop", **data}, curator)
    assert error.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Solution)) == before
    assert not events(db, "solution.create")


def test_a_refused_form_is_shown_again_with_the_input_and_the_error(db, library, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post(
        "/solutions/new",
        data={
            "code": "SOP-TILL",
            "title": "Quokka greeting",
            "kind": "sop",
            "language": "en",
            "summary": "Keep me",
            "challenges": ["STAFF-GREET"],
            "status": "approved",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The code “SOP-TILL” is already used by another solution" in page
    assert 'value="Quokka greeting"' in page and "Keep me</textarea>" in page
    assert re.search(r'<input checked[^>]*value="STAFF-GREET"', page)
    assert "Nothing was saved" in page
    missing = client.post("/solutions/new", data={"kind": "sop", "language": "en"})
    assert missing.status_code == 400
    assert "A solution needs a title." in missing.get_data(as_text=True)
    assert "quokka" not in {code.lower() for code in found("quokka")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Solution)) == 2


# --- Edit --------------------------------------------------------------------------------


def test_editing_changes_the_search_index_old_word_gone_new_word_found(db, library, client_as):
    client = client_as(Role.CX_LEAD)
    assert "SOP-TILL" in found("three")
    form = client.get("/solutions/SOP-TILL/edit").get_data(as_text=True)
    assert 'value="Open a till at three"' in form
    response = client.post(
        "/solutions/SOP-TILL/edit",
        data={
            "title": "Open a gate at dawn",
            "kind": "sop",
            "language": "en",
            "summary": "A kumquat trigger.",
            "challenges": ["SPEED-QUEUE", "STAFF-GREET"],
            "effort": "high",
            "cost": "low",
        },
    )
    assert response.status_code == 302
    till = db.session.get(Solution, library["till"].id)
    db.session.refresh(till)
    assert till.title == "Open a gate at dawn" and till.effort == Level.HIGH
    assert {c.code for c in till.challenges} == {"SPEED-QUEUE", "STAFF-GREET"}
    (event,) = events(db, "solution.update")
    assert set(event.details["fields"]) >= {"title", "summary", "effort", "cost", "challenges"}
    assert event.details["challenges"] == {
        "from": ["SPEED-QUEUE"],
        "to": ["SPEED-QUEUE", "STAFF-GREET"],
    }
    assert "SOP-TILL" not in found("three")
    assert "SOP-TILL" in found("dawn")
    assert "SOP-TILL" in found("kumquat")
    assert "SOP-TILL" in found("greeted")  # the new challenge's name


def test_saving_an_unchanged_solution_writes_nothing(db, library, curator):
    till = library["till"]
    data = {
        "title": till.title,
        "kind": "sop",
        "summary": "A trigger.",
        "challenges": ["SPEED-QUEUE"],
    }
    assert services.update_solution(till, data, curator) == []
    assert not events(db, "solution.update")


def test_an_edit_keeps_a_retired_challenge_the_solution_already_had(db, library, curator):
    old = db.session.scalar(sa.select(Solution.__table__.c.id).where(Solution.code == "SOP-TILL"))
    till = db.session.get(Solution, old)
    retired = challenge("OLD-2", "Telex replies", status=ChallengeStatus.RETIRED)
    till.challenges.append(retired)
    db.session.commit()
    changed = services.update_solution(
        till, {"title": "Open a till at 3", "challenges": ["SPEED-QUEUE", "OLD-2"]}, curator
    )
    assert changed == ["title"]
    with pytest.raises(RefusedChange, match="OLD is retired"):
        services.update_solution(till, {"challenges": ["OLD"]}, curator)


def test_code_and_status_are_not_edited_by_update(db, library, curator):
    with pytest.raises(RefusedChange, match="code cannot be edited"):
        services.update_solution(library["till"], {"code": "OTHER"}, curator)
    with pytest.raises(RefusedChange, match="use change_status"):
        services.update_solution(library["till"], {"status": "retired"}, curator)


# --- Review, retire, reinstate -----------------------------------------------------------


def test_approving_a_pending_proposal_makes_it_visible_to_staff_search(db, library, client_as):
    assert "PROP-SMILE" not in found("marmalade")
    assert "PROP-SMILE" in found("marmalade", curator=True, status="pending")
    client = client_as(Role.CX_LEAD)
    page = client.get("/solutions/PROP-SMILE").get_data(as_text=True)
    assert 'value="approved"' in page and 'value="rejected"' in page
    response = client.post(
        "/solutions/PROP-SMILE/status", data={"status": "approved", "note": "Nice one."}
    )
    assert response.status_code == 302
    proposal = db.session.get(Solution, library["pending"].id)
    db.session.refresh(proposal)
    assert proposal.status == SolutionStatus.APPROVED
    assert proposal.review_note == "Nice one." and proposal.reviewed_at is not None
    (event,) = events(db, "solution.approve")
    assert event.details == {
        "code": "PROP-SMILE",
        "from": "pending",
        "to": "approved",
        "note": "Nice one.",
    }
    assert proposal.reviewed_by_id == event.user_id
    assert "PROP-SMILE" in found("marmalade")


def test_a_rejection_needs_a_note_and_the_form_says_so(db, library, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post("/solutions/PROP-SMILE/status", data={"status": "rejected"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Say why the proposal is rejected" in page
    assert db.session.get(Solution, library["pending"].id).status == SolutionStatus.PENDING
    response = client.post(
        "/solutions/PROP-SMILE/status", data={"status": "rejected", "note": "Already exists."}
    )
    assert response.status_code == 302
    assert events(db, "solution.reject")[0].details["note"] == "Already exists."


def test_a_status_change_that_is_not_allowed_is_refused(db, library, client_as, curator):
    with pytest.raises(RefusedChange, match="A pending solution cannot become retired"):
        services.change_status(library["pending"], "retired", curator)
    with pytest.raises(RefusedChange, match="already approved"):
        services.change_status(library["till"], SolutionStatus.APPROVED, curator)
    with pytest.raises(RefusedChange, match="“gone” is not one of"):
        services.change_status(library["till"], "gone", curator)
    response = client_as(Role.CX_LEAD).post(
        "/solutions/SOP-TILL/status", data={"status": "pending"}
    )
    assert response.status_code == 400
    assert "An approved solution cannot become pending" not in response.get_data(as_text=True)
    assert "cannot become pending; it can become retired" in response.get_data(as_text=True)
    assert not db.session.scalars(sa.select(AuditEvent)).all()


def test_retiring_hides_a_solution_from_search_and_reinstating_brings_it_back(
    db, library, client_as
):
    assert "SOP-TILL" in found("till")
    client = client_as(Role.CX_LEAD)
    response = client.post("/solutions/SOP-TILL/status", data={"status": "retired"})
    assert response.status_code == 302
    assert "SOP-TILL" not in found("till")
    assert "SOP-TILL" in found("till", curator=True, status="retired")
    assert events(db, "solution.retire")
    page = client.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "This solution was retired" in page and "Reinstate" in page
    assert client.post("/solutions/SOP-TILL/status", data={"status": "approved"}).status_code == 302
    assert events(db, "solution.reinstate")
    assert "SOP-TILL" in found("till")


# --- Merge -------------------------------------------------------------------------------


@pytest.fixture
def duplicates(db, library, make_user):
    """SOP-TILL-2 duplicates SOP-TILL; units, votes and comments on both."""
    units = unit_tree()
    bay = challenge("STORE-BAY", "Crowded loading bay")
    dup = solution("SOP-TILL-2", "Third customer opens a till", challenges=[library["queue"], bay])
    till = library["till"]
    db.session.add_all(
        [
            Adoption(unit=units["S1"], solution=till, status=AdoptionStatus.PLANNED),
            Adoption(
                unit=units["S1"],
                solution=dup,
                status=AdoptionStatus.IMPLEMENTED,
                effective_on=date(2024, 5, 6),
            ),
            Adoption(
                unit=units["S2"],
                solution=dup,
                status=AdoptionStatus.IMPLEMENTED,
                effective_on=date(2024, 5, 6),
                challenge_id=bay.id,
            ),
        ]
    )
    both, one = make_user(Role.STAFF), make_user(Role.STAFF)
    db.session.add_all(
        [
            Vote(user_id=both.id, solution_id=till.id, value=1),
            Vote(user_id=both.id, solution_id=dup.id, value=-1),
            Vote(user_id=one.id, solution_id=dup.id, value=1),
            Comment(solution_id=dup.id, user_id=one.id, body="We tried it."),
        ]
    )
    db.session.commit()
    return {"units": units, "dup": dup, "till": till, "bay": bay, "both": both, "one": one}


def test_merging_moves_everything_to_the_survivor_and_retires_the_duplicate(
    db, duplicates, curator
):
    dup, till, units = duplicates["dup"], duplicates["till"], duplicates["units"]
    assert {"SOP-TILL", "SOP-TILL-2"} <= found("till")
    assert "SOP-TILL" not in found("loading bay")
    version = current_data_version(db.session)
    plan = services.merge_solutions(dup, till, curator)
    assert [c.code for c in plan.challenges_added] == ["STORE-BAY"]
    assert (len(plan.adoptions_moved), len(plan.adoptions_folded)) == (1, 1)
    assert (plan.votes_moved, plan.votes_dropped, plan.comments_moved) == (1, 1, 1)

    db.session.expire_all()
    assert dup.status == SolutionStatus.RETIRED and dup.merged_into_id == till.id
    assert dup.review_note == "Merged into SOP-TILL."
    assert {c.code for c in till.challenges} == {"SPEED-QUEUE", "STORE-BAY"}
    adoptions = db.session.scalars(sa.select(Adoption).order_by(Adoption.unit_id)).all()
    assert [(a.unit_id, a.solution_id, a.status) for a in adoptions] == [
        (units["S1"].id, till.id, AdoptionStatus.IMPLEMENTED),  # folded: implemented kept
        (units["S2"].id, till.id, AdoptionStatus.IMPLEMENTED),
    ]
    assert adoptions[1].challenge_id == duplicates["bay"].id
    votes = db.session.execute(sa.select(Vote.user_id, Vote.solution_id, Vote.value)).all()
    assert sorted(votes) == sorted(
        [(duplicates["both"].id, till.id, 1), (duplicates["one"].id, till.id, 1)]
    )
    assert db.session.scalar(sa.select(Comment.solution_id)) == till.id
    assert current_data_version(db.session) == version + 1
    (event,) = events(db, "solution.merge")
    assert event.details["into"] == "SOP-TILL" and event.details["adoptions_moved"] == 1
    ((folded,),) = [event.details["adoptions_folded"]]
    assert (folded["unit"], folded["status"]) == ("S1", "implemented")
    assert db.session.get(Adoption, folded["live_item"]).solution_id == till.id

    assert "SOP-TILL-2" not in found("till")
    assert "SOP-TILL-2" in found("till", curator=True, status="retired")
    assert "SOP-TILL" in found("loading bay")  # the duplicate's challenge now leads here


def test_a_merge_without_implemented_plans_leaves_the_estimates_fresh(db, library, curator):
    dup = solution("SOP-DUP", "Another till", challenges=[library["queue"]])
    db.session.commit()
    version = current_data_version(db.session)
    services.merge_solutions(dup, library["till"], curator)
    assert current_data_version(db.session) == version


def test_solutions_merged_earlier_follow_the_duplicate_to_the_survivor(db, library, curator):
    first = solution("SOP-A", "Till A", challenges=[library["queue"]])
    second = solution("SOP-B", "Till B", challenges=[library["queue"]])
    db.session.commit()
    services.merge_solutions(first, second, curator)
    services.merge_solutions(second, library["till"], curator)
    db.session.expire_all()
    assert first.merged_into_id == library["till"].id


@pytest.mark.parametrize(
    ("survivor", "message"),
    [
        ("SOP-TILL-2", "cannot be merged into itself"),
        ("PROP-SMILE", "PROP-SMILE is pending: merge only into an approved solution"),
    ],
)
def test_a_merge_that_makes_no_sense_is_refused(db, duplicates, curator, survivor, message):
    target = db.session.scalar(sa.select(Solution).where(Solution.code == survivor))
    with pytest.raises(RefusedChange, match=re.escape(message)):
        services.merge_solutions(duplicates["dup"], target, curator)
    assert db.session.get(Solution, duplicates["dup"].id).merged_into_id is None
    assert not events(db, "solution.merge")
    assert outbox_rows(db) == 0


def test_a_merged_solution_cannot_be_merged_or_reinstated_again(db, duplicates, curator):
    services.merge_solutions(duplicates["dup"], duplicates["till"], curator)
    with pytest.raises(RefusedChange, match="already merged into SOP-TILL"):
        services.merge_solutions(duplicates["dup"], duplicates["till"], curator)
    with pytest.raises(RefusedChange, match="was merged into SOP-TILL; it stays retired"):
        services.change_status(duplicates["dup"], "approved", curator)
    other = solution("SOP-OTHER", "Other", challenges=[])
    db.session.commit()
    with pytest.raises(RefusedChange, match="was itself merged into SOP-TILL"):
        services.merge_solutions(other, duplicates["dup"], curator)


def test_the_merge_page_previews_what_moves_then_merges_on_confirmation(db, duplicates, client_as):
    client = client_as(Role.CX_LEAD)
    page = client.get("/solutions/SOP-TILL-2").get_data(as_text=True)
    assert "/solutions/SOP-TILL-2/merge" in page
    form = client.get("/solutions/SOP-TILL-2/merge").get_data(as_text=True)
    assert '<option value="SOP-TILL">' in form  # a likely survivor is suggested
    preview = client.post("/solutions/SOP-TILL-2/merge", data={"survivor": "SOP-TILL"})
    assert preview.status_code == 200
    text = visible_text(preview.get_data(as_text=True))
    assert "What the merge does" in text
    assert "the challenge “Crowded loading bay”" in text
    assert "1 action-plan item (Store 2)" in text
    assert "Plan items folded together, nothing lost: 1 unit adopted both solutions" in text
    assert (
        "Store 1: its SOP-TILL item (planned) takes the earlier implementation of its "
        "SOP-TILL-2 item (implemented on 6 May 2024) and folds it in." in text
    )
    assert "Dropped as duplicates: 1 vote from people who also voted for SOP-TILL" in text
    assert "1 vote, 1 comment and 0 followers" in text
    assert "the impact estimates are recomputed" in text
    assert db.session.get(Solution, duplicates["dup"].id).merged_into_id is None  # not yet
    response = client.post(
        "/solutions/SOP-TILL-2/merge",
        data={"survivor": "SOP-TILL", "note": "Same fix.", "confirm": "Merge"},
    )
    assert response.status_code == 302 and response.location.endswith("/solutions/SOP-TILL")
    dup = db.session.get(Solution, duplicates["dup"].id)
    db.session.refresh(dup)
    assert dup.merged_into_id == duplicates["till"].id and dup.review_note == "Same fix."
    assert "SOP-TILL-2 was merged into SOP-TILL" in client.get(response.location).get_data(
        as_text=True
    )


def test_the_merge_page_names_a_wrong_survivor_and_keeps_the_input(db, duplicates, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post(
        "/solutions/SOP-TILL-2/merge", data={"survivor": "NOPE-1", "confirm": "Merge"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is no solution with the code “NOPE-1”" in page and 'value="NOPE-1"' in page
    response = client.post("/solutions/SOP-TILL-2/merge", data={"survivor": "PROP-SMILE"})
    assert response.status_code == 400
    assert "merge only into an approved solution" in response.get_data(as_text=True)
    assert client.post("/solutions/SOP-TILL-2/merge", data={}).status_code == 400
    assert not events(db, "solution.merge")


def test_a_merged_code_leads_staff_to_the_survivor_and_tells_curators(
    db, duplicates, curator, make_user, login
):
    services.merge_solutions(duplicates["dup"], duplicates["till"], curator)
    client = login(make_user(Role.STAFF))
    response = client.get("/solutions/SOP-TILL-2")
    assert response.status_code == 302 and response.location.endswith("/solutions/SOP-TILL")
    page = client.get(response.location).get_data(as_text=True)
    assert "(SOP-TILL-2) was merged into this solution" in page
    client.post("/logout")
    page = login(curator).get("/solutions/SOP-TILL-2").get_data(as_text=True)
    text = visible_text(page)
    assert "This solution was merged into Open a till at three ( SOP-TILL )" in text
    assert 'href="/solutions/SOP-TILL"' in page
    assert "A merged solution stays retired" in text


# --- The index follows only what was committed ---------------------------------------------


def test_a_refused_change_leaves_the_database_and_the_index_as_they_were(db, library, curator):
    assert "SOP-TILL" in found("till")
    with pytest.raises(RefusedChange):
        services.update_solution(
            library["till"], {"title": "Open a zucchini", "kind": "poster"}, curator
        )
    assert outbox_rows(db) == 0
    db.session.expire_all()
    assert library["till"].title == "Open a till at three"
    assert "SOP-TILL" in found("till") and not found("zucchini")


def test_a_rolled_back_change_leaves_the_index_as_it_was(db, library, curator):
    assert "SOP-TILL" in found("till")
    services.update_solution(library["till"], {"title": "Open a zucchini"}, curator, commit=False)
    assert outbox_rows(db) == 1  # written by the flush, inside the transaction
    db.session.rollback()
    assert outbox_rows(db) == 0
    assert "SOP-TILL" in found("till") and not found("zucchini")
    assert not events(db, "solution.update")


def test_a_failure_half_way_through_a_change_writes_nothing(db, library, curator, monkeypatch):
    assert "SOP-TILL" in found("till")

    def broken_audit(*args, **kwargs):
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(services, "record", broken_audit)
    with pytest.raises(RuntimeError):
        services.change_status(library["till"], "retired", curator)
    db.session.expire_all()
    assert library["till"].status == SolutionStatus.APPROVED
    assert outbox_rows(db) == 0
    assert "SOP-TILL" in found("till")


# --- Who may curate ------------------------------------------------------------------------

CURATION_REQUESTS = [
    ("get", "/solutions/new"),
    ("post", "/solutions/new"),
    ("get", "/solutions/SOP-TILL/edit"),
    ("post", "/solutions/SOP-TILL/edit"),
    ("post", "/solutions/PROP-SMILE/status"),
    ("get", "/solutions/SOP-TILL/merge"),
    ("post", "/solutions/SOP-TILL/merge"),
]


@pytest.mark.parametrize(("method", "path"), CURATION_REQUESTS)
@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_staff_and_managers_may_not_curate_the_library(db, library, client_as, role, method, path):
    data = {
        "title": "Sneaky",
        "kind": "sop",
        "status": "approved",
        "survivor": "SOP-TILL",
        "confirm": "Merge",
    }
    client = client_as(role)
    response = getattr(client, method)(path, data=data if method == "post" else None)
    assert response.status_code == 403
    db.session.expire_all()
    assert library["pending"].status == SolutionStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Solution)) == 2
    assert not db.session.scalars(sa.select(AuditEvent)).all()


@pytest.mark.parametrize(("method", "path"), CURATION_REQUESTS)
def test_anonymous_visitors_are_sent_to_sign_in_before_curating(db, library, client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(("method", "path"), CURATION_REQUESTS[::2] + [CURATION_REQUESTS[4]])
def test_admins_may_curate_too(db, library, client_as, method, path):
    response = getattr(client_as(Role.ADMIN), method)(path)
    assert response.status_code in (200, 302, 400)


def test_curator_actions_are_shown_to_curators_only(db, library, client_as):
    staff_page = client_as(Role.STAFF).get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "/solutions/SOP-TILL/edit" not in staff_page and 'id="curator-actions"' not in staff_page
    assert "New solution" not in client_as(Role.STAFF).get("/solutions").get_data(as_text=True)


def test_curation_forms_refuse_a_post_without_the_csrf_token(app, db, library, client_as):
    client = client_as(Role.CX_LEAD)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    response = client.post("/solutions/SOP-TILL/status", data={"status": "retired"})
    assert response.status_code == 400
    assert db.session.get(Solution, library["till"].id).status == SolutionStatus.APPROVED
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/solutions/SOP-TILL/status", data={"status": "retired", "csrf_token": token}
    )
    assert response.status_code == 302


def test_user_written_titles_are_escaped_on_the_curation_pages(db, library, curator, client_as):
    services.create_solution(
        db.session,
        {
            "code": "XSS-1",
            "title": "<script>alert(1)</script>",
            "kind": "sop",
            "body": "<script>alert(2)</script>ok",
        },
        curator,
    )
    client = client_as(Role.CX_LEAD)
    for path in ("/solutions/XSS-1", "/solutions/XSS-1/edit", "/solutions/XSS-1/merge"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page, path


def test_folding_two_plan_items_keeps_both_checklists(db, duplicates, curator):
    dup, till, units = duplicates["dup"], duplicates["till"], duplicates["units"]
    items = {
        a.solution_id: a
        for a in db.session.scalars(sa.select(Adoption).where(Adoption.unit_id == units["S1"].id))
    }
    items[till.id].steps = [
        PlanStep(position=1, text="Brief the team"),
        PlanStep(position=2, text="Put up the sign", done_at=datetime(2024, 5, 1)),
    ]
    items[dup.id].steps = [
        PlanStep(position=1, text="Brief the team", done_at=datetime(2024, 5, 2)),
        PlanStep(position=2, text="Time the queue"),
    ]
    db.session.commit()
    services.merge_solutions(dup, till, curator)
    db.session.expire_all()
    (kept,) = db.session.scalars(sa.select(Adoption).where(Adoption.unit_id == units["S1"].id))
    assert [(step.position, step.text, step.done_at is not None) for step in kept.steps] == [
        (1, "Brief the team", True),  # ticked on the folded item: the tick is kept
        (2, "Put up the sign", True),
        (3, "Time the queue", False),  # the folded item's step joins the checklist
    ]
