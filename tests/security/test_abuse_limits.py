"""Abuse limits: a honeypot on sign-up, a daily cap on submissions, request size limits.
(Login lock-outs and allauth's rate limits are tested in tests/review/test_accounts.py.)"""

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.models import Project
from review import workflow
from review.models import Event, Submission
from review.workflow import TransitionError
from tests.base import content, make_project, make_user
from tests.imagefiles import plain

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2] / "static"
SIGNUP = "/accounts/signup/"


def stored_files():
    """Every file under MEDIA_ROOT (logos and thumbnails)."""
    return sorted(p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file())


def signup_data(**extra):
    return {
        "email": "new@example.com",
        "password1": "a long enough pass 42",
        "password2": "a long enough pass 42",
        **extra,
    }


def test_the_signup_page_has_a_honeypot_people_cannot_see_or_tab_to(client):
    page = client.get(SIGNUP).text

    field = page.split('id="div_id_homepage"', 1)[1].split("</div>", 1)[0]
    assert 'name="homepage"' in field and 'tabindex="-1"' in field and 'autocomplete="off"' in field
    assert (
        "#div_id_homepage { position: absolute; left: -10000px;" in (STATIC / "css" / "site.css").read_text()
    )


def test_a_filled_honeypot_creates_no_account_and_sends_no_mail(client, mailoutbox, caplog):
    with caplog.at_level(logging.WARNING, logger="aimap.security"):
        response = client.post(SIGNUP, signup_data(homepage="http://spam.example"))

    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="new@example.com").exists() and mailoutbox == []
    assert any(getattr(r, "event", "") == "honeypot" for r in caplog.records)


def test_an_empty_honeypot_signs_up_as_before(client, mailoutbox):
    response = client.post(SIGNUP, signup_data(homepage=""))

    assert response.status_code == 302 and get_user_model().objects.filter(email="new@example.com").exists()
    assert len(mailoutbox) == 1


def submit_one(founder, name):
    return workflow.create_and_submit(
        by=founder, content=content(draft=False, name=name, tagline="t", description="d", track="agents")
    )


@override_settings(MAX_SUBMISSIONS_PER_DAY=2)
def test_a_founder_may_send_a_few_submissions_a_day_and_keeps_the_draft_when_over():
    founder = make_user()
    submit_one(founder, "One")
    workflow.claim(make_project(name="Theirs"), by=founder, evidence="I run it")  # a claim counts too

    draft = workflow.create(
        by=founder, content=content(name="Three", tagline="t", description="d", track="agents")
    )
    with pytest.raises(TransitionError, match="the most we accept in a day"):
        workflow.submit(draft, by=founder)

    draft.refresh_from_db()
    assert draft.state == Submission.State.DRAFT and draft.name == "Three"
    assert make_user().pk and submit_one(make_user(), "Someone else's").state == "submitted"  # per founder


@override_settings(MAX_SUBMISSIONS_PER_DAY=1)
def test_the_daily_limit_counts_the_last_24_hours_only():
    founder = make_user()
    submit_one(founder, "Yesterday's")
    Event.objects.filter(actor=founder).update(
        created_at=Event.objects.get(action="submit").created_at - timedelta(hours=25)
    )

    assert submit_one(founder, "Today's").state == Submission.State.SUBMITTED


@override_settings(MAX_SUBMISSIONS_PER_DAY=1)
def test_the_limit_shows_next_to_the_form_and_nothing_typed_is_lost(founder_client, founder):
    submit_one(founder, "First")
    response = founder_client.post(
        "/my/submissions/new/",
        {
            "name": "Second try",
            "tagline": "t",
            "description": "d",
            "hq_country": "CN",
            "status": "active",
            "submit": "1",
        },
        headers={"accept-language": "en"},
    )

    assert response.status_code in (200, 302)
    page = founder_client.get(response.url).text if response.status_code == 302 else response.text
    assert "Second try" in page


def test_an_oversized_form_body_is_refused_with_a_400_page(founder_client):
    response = founder_client.post("/my/submissions/new/", {"description": "x" * 3_000_000})

    assert response.status_code == 400
    assert not Project.objects.exists() and not Submission.objects.exists()


# --- Saves are throttled per account (issue 15: drafts could fill the disk) ----------------


def save(client, submission=None, **data):
    """Post the submission form as "Save draft": a new draft, or an edit of `submission`."""
    if submission is None:
        url = reverse("review:submission-new")
    else:
        url = reverse("review:submission-edit", args=[submission.pk])
        data.setdefault("version", Submission.objects.get(pk=submission.pk).version)
    return client.post(url, {"action": "save", **data}, headers={"accept-language": "en"})


@override_settings(SUBMISSION_SAVES_PER_HOUR=3)
def test_a_founders_saves_are_throttled_and_the_form_comes_back_with_what_they_typed(
    founder_client, founder, other_founder, client
):
    assert save(founder_client, name="First").status_code == 302
    draft = Submission.objects.get(owner=founder)
    assert save(founder_client, draft, name="Second").status_code == 302
    assert save(founder_client, draft, name="Third").status_code == 302
    events = Event.objects.count()

    response = save(founder_client, draft, name="Fourth, typed with care", tagline="Kept too")

    assert response.status_code == 429
    assert "the most we accept" in response.text and "in 60 minutes" in response.text
    assert "Fourth, typed with care" in response.text and "Kept too" in response.text
    draft.refresh_from_db()
    assert (draft.name, draft.version, Event.objects.count()) == ("Third", 3, events)  # nothing written
    assert save(founder_client, name="A new one").status_code == 429  # starting a draft is a save too
    assert Submission.objects.filter(owner=founder).count() == 1

    client.force_login(other_founder)  # per account, not per address: the same client saves on
    assert save(client, name="Someone else's").status_code == 302


@override_settings(SUBMISSION_SAVES_PER_HOUR=2)
def test_the_save_limit_is_held_by_the_workflow_and_stores_no_logo(founder):
    draft = workflow.create(by=founder, content=content(name="One"))
    draft = workflow.save_draft(
        draft, by=founder, content=content(instance=draft, name="Two"), expected_version=1
    )
    logo = SimpleUploadedFile("logo.png", plain("PNG", size=(96, 96)), content_type="image/png")
    stored = stored_files()

    with pytest.raises(workflow.SaveLimitError, match="saved 2 times in the last hour"):
        workflow.save_draft(
            draft,
            by=founder,
            content=content(instance=draft, name="Three", files={"logo": logo}),
            expected_version=2,
        )

    draft.refresh_from_db()
    assert (draft.name, draft.logo.name) == ("Two", "") and stored_files() == stored


@override_settings(SUBMISSION_SAVES_PER_HOUR=1)
def test_the_save_limit_counts_the_last_hour_only(founder):
    draft = workflow.create(by=founder, content=content(name="Earlier"))
    Event.objects.filter(actor=founder).update(created_at=timezone.now() - timedelta(minutes=61))

    saved = workflow.save_draft(
        draft, by=founder, content=content(instance=draft, name="Now"), expected_version=1
    )

    assert saved.name == "Now"


@override_settings(SUBMISSION_SAVES_PER_HOUR=1)
def test_submitting_a_saved_draft_is_not_a_save(founder):
    draft = workflow.create(
        by=founder, content=content(name="Ready", tagline="t", description="d", track="agents")
    )

    assert workflow.submit(draft, by=founder).state == Submission.State.SUBMITTED


def test_the_default_save_limit_leaves_a_real_founder_alone(settings):
    assert settings.SUBMISSION_SAVES_PER_HOUR >= 60  # a save a minute, every minute of an hour


# --- Withdraw-and-create cannot get round MAX_OPEN_DRAFTS ---------------------------------


def start_and_withdraw(founder, name):
    draft = workflow.create(by=founder, content=content(name=name))
    return workflow.withdraw(draft, by=founder, reason="Started again")


@override_settings(MAX_OPEN_DRAFTS=1, MAX_NEW_DRAFTS_PER_DAY=3)
def test_withdrawing_drafts_does_not_let_a_founder_start_more_than_a_days_worth(founder, other_founder):
    start_and_withdraw(founder, "One")
    start_and_withdraw(founder, "Two")
    workflow.create(by=founder, content=content(name="Three"))
    workflow.withdraw(Submission.objects.get(name="Three"), by=founder, reason="Again")

    with pytest.raises(TransitionError, match="started 3 drafts in the last 24 hours"):
        workflow.create(by=founder, content=content(name="Four"))

    assert not Submission.objects.filter(name="Four").exists()
    assert workflow.create(by=other_founder, content=content(name="Theirs")).state == "draft"  # per founder


@override_settings(MAX_NEW_DRAFTS_PER_DAY=2)
def test_updates_count_as_drafts_started_and_the_form_keeps_what_was_typed(founder_client, founder):
    start_and_withdraw(founder, "One")
    project = make_project(owner=founder, name="Mine")
    workflow.withdraw(
        workflow.start_update(project, by=founder, content=content(name="Mine, better")),
        by=founder,
        reason="No",
    )

    response = save(founder_client, name="A third start", tagline="Still here")

    assert response.status_code == 200
    assert "started 2 drafts in the last 24 hours" in response.text
    assert "A third start" in response.text and "Still here" in response.text
    assert not Submission.objects.filter(name="A third start").exists()


@override_settings(MAX_NEW_DRAFTS_PER_DAY=1)
def test_the_drafts_started_limit_counts_the_last_24_hours_only(founder):
    start_and_withdraw(founder, "Yesterday's")
    Event.objects.filter(actor=founder).update(created_at=timezone.now() - timedelta(hours=25))

    assert workflow.create(by=founder, content=content(name="Today's")).state == "draft"


@override_settings(SUBMISSION_SAVES_PER_HOUR=1)
def test_the_save_limit_says_when_the_next_save_is_possible(founder):
    draft = workflow.create(by=founder, content=content(name="Earlier"))
    Event.objects.filter(actor=founder).update(created_at=timezone.now() - timedelta(minutes=59, seconds=30))

    with pytest.raises(workflow.SaveLimitError, match=r"save again in 1 minute\."):
        workflow.save_draft(
            draft, by=founder, content=content(instance=draft, name="Now"), expected_version=1
        )
