"""Freshness (issue 16, point 3): last_verified_at moves on a review decision, an editor's
check or the founder's yearly one-click confirmation, and on nothing else; the signed link
expires, works once and refuses alteration; the editors list stale listings."""

import re
import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from registry.models import Project
from review import lifecycle, schedule
from review.lifecycle import CONFIRM_SALT
from review.models import Event, PeriodicRun
from tests.base import make_project, make_user
from tests.review.workflow_builders import make_editor

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
LONG_AGO = timedelta(days=400)


@pytest.fixture
def owner():
    return make_user("confirming-founder", email="founder@example.com")


def stale(owner, **fields):
    verified = timezone.now() - LONG_AGO
    return make_project(owner=owner, last_verified_at=verified, first_published_at=verified, **fields)


def emailed_link(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = lifecycle.request_confirmations()
    assert sent == 1 and len(mail.outbox) == 1
    text = mail.outbox[0].body
    (link,) = re.findall(r"https?://\S+/confirm/\S+/", text)
    return link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]


class TestTheYearlyConfirmation:
    def test_only_listings_not_verified_for_a_year_are_asked_once(
        self, owner, django_capture_on_commit_callbacks
    ):
        due = stale(owner, name="Due")
        make_project(owner=owner, name="Fresh", last_verified_at=timezone.now() - timedelta(days=30))
        make_project(name="Nobody's", last_verified_at=timezone.now() - LONG_AGO)  # no owner to ask
        stale(owner, name="Off the map", published=False)
        assert list(lifecycle.due_for_confirmation()) == [due]
        with django_capture_on_commit_callbacks(execute=True):
            assert lifecycle.request_confirmations() == 1
        assert mail.outbox[0].to == ["founder@example.com"] and "Due" in mail.outbox[0].subject
        assert lifecycle.request_confirmations() == 0  # asked: not again within the year
        due.refresh_from_db()
        assert due.confirmation_sent_at is not None and due.last_verified_at < timezone.now() - timedelta(
            days=300
        )

    def test_the_founder_confirms_with_one_click_and_nothing_else_changes(
        self, client, owner, django_capture_on_commit_callbacks
    ):
        project = stale(owner, name="Still Here", tagline="Before")
        path = emailed_link(django_capture_on_commit_callbacks)
        page = client.get(path, headers=EN)
        assert page.status_code == 200 and "Is “Still Here” still operating" in page.content.decode()
        project.refresh_from_db()
        assert project.last_verified_at < timezone.now() - timedelta(days=300)  # opening confirms nothing
        before = {f.attname: getattr(project, f.attname) for f in Project._meta.concrete_fields}
        done = client.post(path, headers=EN)
        assert done.status_code == 200 and "is confirmed as still operating" in done.content.decode()
        project.refresh_from_db()
        assert timezone.now() - project.last_verified_at < timedelta(minutes=1)
        after = {f.attname: getattr(project, f.attname) for f in Project._meta.concrete_fields}
        assert {name for name in before if before[name] != after[name]} == {"last_verified_at", "updated_at"}
        event = Event.objects.get(project=project, action="confirm")
        assert event.actor == owner
        assert (
            "Information verified on" in client.get(project.get_absolute_url(), headers=EN).content.decode()
        )

    def test_a_used_link_is_refused_and_changes_nothing(
        self, client, owner, django_capture_on_commit_callbacks
    ):
        project = stale(owner)
        path = emailed_link(django_capture_on_commit_callbacks)
        assert client.post(path).status_code == 200
        project.refresh_from_db()
        first = project.last_verified_at
        again = client.post(path, headers=EN)
        assert again.status_code == 410 and "already used" in again.content.decode()
        assert client.get(path).status_code == 410
        project.refresh_from_db()
        assert project.last_verified_at == first and Event.objects.filter(action="confirm").count() == 1

    def test_an_expired_link_is_refused(self, client, owner, settings, monkeypatch):
        project = stale(owner)
        settings.CONFIRMATION_LINK_DAYS = 1
        two_days_ago = time.time() - 2 * 86400
        monkeypatch.setattr(signing.time, "time", lambda: two_days_ago)  # the link was signed then
        token = lifecycle.confirmation_token(project)
        monkeypatch.undo()
        response = client.post(reverse("review:confirm", args=[token]), headers=EN)
        assert response.status_code == 410 and "expired" in response.content.decode()
        project.refresh_from_db()
        assert project.last_verified_at < timezone.now() - timedelta(days=300)

    @pytest.mark.parametrize("how", ["altered", "forged", "garbage", "another owner"])
    def test_an_altered_or_forged_link_is_refused(self, client, owner, how):
        project = stale(owner)
        other = stale(make_user("someone-else"))
        token = lifecycle.confirmation_token(project)
        token = {
            "altered": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
            "forged": signing.dumps({"p": other.pk, "o": owner.pk, "v": ""}, salt="wrong-salt"),
            "garbage": "not-a-token",
            "another owner": signing.dumps(
                {"p": other.pk, "o": owner.pk, "v": other.last_verified_at.isoformat()}, salt=CONFIRM_SALT
            ),
        }[how]
        response = client.post(reverse("review:confirm", args=[token]), headers=EN)
        assert response.status_code == 400 and "not valid" in response.content.decode()
        assert not Event.objects.filter(action="confirm").exists()

    def test_a_link_outlives_no_change_of_owner(self, client, owner):
        project = stale(owner)
        token = lifecycle.confirmation_token(project)
        Project.objects.filter(pk=project.pk).update(owner=make_user("new-owner"))
        assert client.post(reverse("review:confirm", args=[token])).status_code == 400


class TestEditors:
    def test_an_editors_check_verifies_the_listing_with_an_event(self, client):
        editor = make_editor()
        project = make_project(last_verified_at=None)
        client.force_login(editor)
        response = client.post(
            reverse("admin:registry_project_verify", args=[project.pk]), {"note": "Website and news checked"}
        )
        assert response.status_code == 302
        project.refresh_from_db()
        assert project.last_verified_at is not None
        assert Event.objects.get(project=project, action="verify").detail == "Website and news checked"

    def test_a_founder_or_a_visitor_cannot_mark_a_listing_verified(self, client):
        project = make_project(last_verified_at=None)
        client.force_login(make_user("nosy"))
        client.post(reverse("admin:registry_project_verify", args=[project.pk]))
        project.refresh_from_db()
        assert project.last_verified_at is None

    def test_the_admin_lists_listings_unverified_for_6_12_24_months(self, client):
        now = timezone.now()
        make_project(name="Eight months", last_verified_at=now - timedelta(days=240))
        make_project(name="Fourteen months", last_verified_at=now - timedelta(days=425))
        make_project(name="Thirty months", last_verified_at=now - timedelta(days=910))
        make_project(name="Last week", last_verified_at=now - timedelta(days=7))
        client.force_login(make_editor())

        def listed(months):
            text = client.get(f"/admin/registry/project/?unverified={months}", headers=EN).content.decode()
            return {name for name in ("Eight", "Fourteen", "Thirty", "Last week") if name in text}

        assert listed(6) == {"Eight", "Fourteen", "Thirty"}
        assert listed(12) == {"Fourteen", "Thirty"}
        assert listed(24) == {"Thirty"}
        assert client.get("/admin/registry/project/?unverified=banana").status_code == 200


class TestTheSchedule:
    def test_due_jobs_are_enqueued_once_and_their_time_moves_on(self, settings):
        now = timezone.now()
        assert set(schedule.enqueue_due(now)) == set(schedule.JOBS)
        assert schedule.enqueue_due(now) == []  # nothing due twice
        later = now + max(job.every for job in schedule.JOBS.values()) + timedelta(seconds=1)
        assert set(schedule.enqueue_due(later)) == set(schedule.JOBS)
        run = PeriodicRun.objects.get(name="link_checks")
        assert run.next_run_at == later + schedule.JOBS["link_checks"].every

    def test_the_confirmations_job_sends_the_due_emails(self, owner, django_capture_on_commit_callbacks):
        stale(owner)
        with django_capture_on_commit_callbacks(execute=True):
            schedule.enqueue_due()
        assert len(mail.outbox) == 1
