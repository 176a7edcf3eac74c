"""Abuse limits: a honeypot on sign-up, a daily cap on submissions, request size limits.
(Login lock-outs and allauth's rate limits are tested in tests/review/test_accounts.py.)"""

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from registry.models import Project
from review import workflow
from review.models import Event, Submission
from review.workflow import TransitionError
from tests.base import content, make_project, make_user

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2] / "static"
SIGNUP = "/accounts/signup/"


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
