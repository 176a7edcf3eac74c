"""The association's rules beyond the transition table: conflicts and self-approval,
what publishing writes onto the map, scheduled publication, unpublishing, and the
founder's decision emails (language, comments, never an internal note, never lost)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.models import Project
from review import emails, workflow
from review.models import Conflict, Event, Review, Submission
from review.workflow import TransitionError
from tests.base import make_project, make_submission, make_user, track
from tests.review.workflow_builders import (
    approved,
    in_review,
    make_editor,
    make_reviewer,
    published,
    review,
)

pytestmark = pytest.mark.django_db
State = Submission.State
INTERNAL = "INTERNAL-NOTE-7d3a91"  # goes into every Review.internal_note; must never reach the founder
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def reviewer(db):
    return make_reviewer()


@pytest.fixture
def editor(db):
    return make_editor()


def public_list(client):
    return client.get(reverse("registry:project-list")).text


def page(client, project):
    return client.get(reverse("registry:project-detail", args=[project.slug]))


def founder_staff(founder):
    """Make the founder staff in both groups."""
    founder.is_staff = True
    founder.save()
    founder.groups.add(*Group.objects.filter(name__in=["Reviewers", "Editors"]))
    return founder


# --- No self-review, no conflicted reviewing -------------------------------------------------------


class TestSelfReview:
    """A founder who is also a reviewer and an editor never reviews or decides their own submission."""

    @pytest.fixture
    def own(self, founder):
        founder_staff(founder)
        return make_submission(founder, state=State.SUBMITTED)

    def test_it_cannot_take_its_own_review(self, founder, own):
        with pytest.raises(TransitionError, match="founder of this submission"):
            workflow.start_review(own, by=founder)
        own.refresh_from_db()
        assert (own.state, list(own.reviewers.all())) == (State.SUBMITTED, [])

    def test_an_editor_cannot_assign_the_founder_to_it(self, founder, own, editor):
        with pytest.raises(TransitionError, match="conflict of interest"):
            workflow.assign(own, by=editor, reviewer=founder)
        own.refresh_from_db()
        assert (own.state, list(own.reviewers.all())) == (State.SUBMITTED, [])

    def test_it_cannot_assign_itself_as_an_editor(self, founder, own):
        with pytest.raises(TransitionError):
            workflow.assign(own, by=founder, reviewer=make_reviewer())
        assert not own.reviewers.exists()

    @pytest.mark.parametrize("decision", ["request_changes", "approve", "reject", "record_review"])
    def test_it_cannot_review_or_decide_even_if_assigned(self, founder, editor, decision):
        founder_staff(founder)
        reviewer = make_reviewer()
        submission = in_review(founder, editor=editor, reviewer=reviewer)
        submission.reviewers.add(founder)  # slipped in by hand: the role check must still hold
        before = (submission.state, submission.version, Event.objects.count(), Review.objects.count())
        take = {
            "request_changes": lambda: workflow.request_changes(submission, by=founder, comment="Mine."),
            "approve": lambda: workflow.approve(submission, by=founder),
            "reject": lambda: workflow.reject(submission, by=founder, reason="Mine."),
            "record_review": lambda: review(submission, founder),
        }[decision]
        with pytest.raises(TransitionError):
            take()
        submission.refresh_from_db()
        assert (submission.state, submission.version, Event.objects.count(), Review.objects.count()) == before

    def test_it_cannot_publish_its_own_approved_submission(self, founder, editor, reviewer):
        founder_staff(founder)
        submission = approved(founder, editor=editor, reviewer=reviewer)
        with pytest.raises(TransitionError, match="founder of this submission"):
            workflow.publish(submission, by=founder)
        assert not Project.objects.exists()

    def test_it_cannot_decide_an_update_of_its_own_project_made_by_someone_else(self, founder, editor):
        """A claim or update touching a project the staff member owns is theirs too."""
        founder_staff(founder)
        project = make_project(owner=founder)
        other = make_user()
        submission = make_submission(other, kind="update", project=project, state=State.SUBMITTED)
        with pytest.raises(TransitionError):
            workflow.start_review(submission, by=founder)
        with pytest.raises(TransitionError):
            workflow.assign(submission, by=editor, reviewer=founder)

    def test_its_own_approving_review_never_counts(self, founder, editor):
        founder_staff(founder)
        submission = make_submission(founder, state=State.IN_REVIEW)
        Review.objects.create(
            submission=submission, reviewer=founder, authenticity=5, innovation=5, completeness=5,
            recommendation="approve",
        )  # fmt: skip
        with pytest.raises(TransitionError, match="has 0"):
            workflow.approve(submission, by=editor)


class TestConflicts:
    def test_a_conflicted_reviewer_cannot_be_assigned_nor_take_the_review(self, founder, editor, reviewer):
        submission = make_submission(founder, state=State.SUBMITTED, organization="Acme Robotics")
        workflow.declare_conflict(
            by=reviewer, reviewer=reviewer, kind="investment", organization="Acme Robotics"
        )
        with pytest.raises(TransitionError, match="conflict of interest"):
            workflow.assign(submission, by=editor, reviewer=reviewer)
        with pytest.raises(TransitionError, match="conflict of interest"):
            workflow.start_review(submission, by=reviewer)
        submission.refresh_from_db()
        assert (submission.state, list(submission.reviewers.all())) == (State.SUBMITTED, [])

    def test_declaring_an_organisation_conflict_unassigns_from_open_submissions_it_touches(
        self, founder, editor, reviewer
    ):
        touched = in_review(founder, editor=editor, reviewer=reviewer, organization="Acme Robotics")
        untouched = in_review(make_user(), editor=editor, reviewer=reviewer, organization="Other Org")
        closed = in_review(make_user(), editor=editor, reviewer=reviewer, organization="ACME robotics")
        workflow.reject(closed, by=editor, reason="Not an AI project.")

        workflow.declare_conflict(
            by=reviewer, reviewer=reviewer, kind="employment", organization=" acme  ROBOTICS "
        )

        assert list(touched.reviewers.all()) == []
        assert list(untouched.reviewers.all()) == [reviewer]
        assert list(closed.reviewers.all()) == [reviewer], "the record of a closed review stays"
        unassigned = touched.events.filter(action="assign").last()
        assert (unassigned.actor, unassigned.from_state, unassigned.to_state) == (
            reviewer,
            "in_review",
            "in_review",
        )
        assert "unassigned" in unassigned.detail and not unassigned.note
        assert not untouched.events.filter(detail__contains="unassigned").exists()
        with pytest.raises(TransitionError):
            review(touched, reviewer)

    def test_declaring_a_project_conflict_unassigns_from_its_update(self, founder, editor, reviewer):
        project = make_project(owner=founder)
        update = in_review(founder, editor=editor, reviewer=reviewer, kind="update", project=project)
        other = in_review(make_user(), editor=editor, reviewer=reviewer)
        workflow.declare_conflict(by=editor, reviewer=reviewer, kind="personal", project=project)
        assert list(update.reviewers.all()) == []
        assert list(other.reviewers.all()) == [reviewer]

    def test_declaring_a_submission_conflict_unassigns_from_it(self, founder, editor, reviewer):
        submission = in_review(founder, editor=editor, reviewer=reviewer)
        workflow.declare_conflict(by=reviewer, reviewer=reviewer, kind="other", submission=submission)
        assert not submission.reviewers.exists()

    @pytest.mark.parametrize(
        "declared",
        ["Acme Robotics", "ACME ROBOTICS", "  acme   robotics ", "Acme\tRobotics\n", "Acme\u3000Robotics",
         # issue 15: the import's normalisation plus legal forms and punctuation
         "Acme Robotics Co.", "Acme Robotics Co., Ltd.", "Acme Robotics, Inc.", "Acme Robotics Ltd",
         "Acme-Robotics", "ＡＣＭＥ Ｒｏｂｏｔｉｃｓ", "Acme Robotics GmbH"],
    )  # fmt: skip
    def test_organisations_are_compared_without_case_or_extra_spaces(self, founder, reviewer, declared):
        submission = make_submission(founder, state=State.SUBMITTED, organization="  Acme  Robotics")
        workflow.declare_conflict(by=reviewer, reviewer=reviewer, kind="advisory", organization=declared)
        with pytest.raises(TransitionError, match="conflict of interest"):
            workflow.start_review(submission, by=reviewer)

    @pytest.mark.parametrize("declared", ["Acme Robotic", "Acme Robotics Intl", "Acme", "Robotics Co."])
    def test_other_organisations_are_not_a_conflict(self, founder, reviewer, declared):
        submission = make_submission(founder, state=State.SUBMITTED, organization="Acme Robotics")
        workflow.declare_conflict(by=reviewer, reviewer=reviewer, kind="advisory", organization=declared)
        assert workflow.start_review(submission, by=reviewer).state == State.IN_REVIEW

    def test_an_update_renaming_the_organisation_does_not_escape_a_conflict(self, founder, reviewer):
        project = make_project(owner=founder, organization="Acme Robotics")
        update = make_submission(
            founder, kind="update", project=project, state=State.SUBMITTED, organization="Acme Robotics Intl"
        )
        workflow.declare_conflict(
            by=reviewer, reviewer=reviewer, kind="employment", organization="acme robotics"
        )
        with pytest.raises(TransitionError):
            workflow.start_review(update, by=reviewer)

    @pytest.mark.parametrize(
        ("declared", "organization"),
        [("杭州灵犀科技", "杭州灵犀科技有限公司"), ("杭州灵犀科技有限责任公司", "杭州灵犀科技"),
         ("Lingxi Pte. Ltd.", "LINGXI")],
    )  # fmt: skip
    def test_chinese_and_other_legal_forms_are_the_same_organisation(
        self, founder, reviewer, declared, organization
    ):
        submission = make_submission(founder, state=State.SUBMITTED, organization=organization)
        workflow.declare_conflict(by=reviewer, reviewer=reviewer, kind="employment", organization=declared)
        with pytest.raises(TransitionError, match="conflict of interest"):
            workflow.start_review(submission, by=reviewer)

    def test_reviewers_declare_only_their_own_conflicts(self, reviewer, editor):
        other = make_reviewer()
        with pytest.raises(TransitionError):
            workflow.declare_conflict(by=reviewer, reviewer=other, kind="other", organization="X")
        assert not Conflict.objects.exists()
        conflict = workflow.declare_conflict(by=editor, reviewer=other, kind="other", organization="X")
        assert (conflict.reviewer, conflict.declared_by) == (other, editor)

    def test_a_conflict_names_what_it_is_with(self, reviewer):
        with pytest.raises(TransitionError):
            workflow.declare_conflict(by=reviewer, reviewer=reviewer, kind="other", organization="   ")
        assert not Conflict.objects.exists()


# --- Publishing writes the registry ------------------------------------------------------------------


class TestPublishNew:
    def test_it_creates_the_project_owned_and_listed_by_the_founder(self, client, founder, editor, reviewer):
        submission = published(
            founder, editor=editor, reviewer=reviewer, name="深言科技", tagline="Reads contracts",
            organization="DeepLang Ltd", website="https://deeplang.example/", founded_year=2021,
        )  # fmt: skip
        submission.secondary_tracks.set([track("coding")])  # after the fact: not copied
        project = Project.objects.get()
        assert submission.project == project
        assert (project.owner, project.listed_by) == (founder, Project.ListedBy.FOUNDER)
        assert (project.name, project.tagline, project.organization) == (
            "深言科技",
            "Reads contracts",
            "DeepLang Ltd",
        )
        assert (project.website, project.founded_year, project.track.slug) == (
            "https://deeplang.example/", 2021, "agents",
        )  # fmt: skip
        assert project.verified and project.verified_at is not None
        assert project.published and project.is_public
        assert project.first_published_at == project.published_at <= timezone.now()
        assert project.slug == "shen-yan-ke-ji"
        assert page(client, project).status_code == 200
        assert "深言科技" in public_list(client)
        assert list(submission.events.values_list("action", "actor"))[-1] == ("publish", editor.pk)

    def test_it_copies_secondary_tracks(self, founder, editor, reviewer):
        submission = approved(founder, editor=editor, reviewer=reviewer)
        submission.secondary_tracks.set([track("coding"), track("productivity")])
        workflow.publish(submission, by=editor)
        assert set(Project.objects.get().secondary_tracks.values_list("slug", flat=True)) == {
            "coding",
            "productivity",
        }

    def test_the_slug_is_unique_and_stays_when_the_name_changes(self, client, founder, editor, reviewer):
        make_project(name="DeepLang")
        submission = published(founder, editor=editor, reviewer=reviewer, name="DeepLang")
        project = submission.project
        assert project.slug == "deeplang-2"
        update = in_review(
            founder, editor=editor, reviewer=reviewer, kind="update", project=project, name="DeepLang Pro",
            tagline="Renamed",
        )  # fmt: skip
        workflow.publish(workflow.approve(update, by=editor), by=editor)
        project.refresh_from_db()
        assert (project.name, project.slug) == ("DeepLang Pro", "deeplang-2")
        assert "DeepLang Pro" in page(client, project).text


class TestPublishUpdate:
    def test_the_live_page_shows_the_old_content_until_publication(self, client, founder, editor, reviewer):
        live = make_project(owner=founder, name="Lingxi", tagline="Old tagline", description="Old words.")
        dates = (live.published_at,)
        update = in_review(
            founder, editor=editor, reviewer=reviewer, kind="update", project=live, name="Lingxi Two",
            tagline="New tagline", description="New words.",
        )  # fmt: skip
        for step in ("in review", "approved"):
            response = page(client, live)
            assert response.status_code == 200, step
            assert "Old tagline" in response.text and "New tagline" not in response.text, step
            assert "Lingxi Two" not in public_list(client), step
            if step == "in review":
                update = workflow.approve(update, by=editor)

        workflow.publish(update, by=editor)
        live.refresh_from_db()
        response = page(client, live)
        assert "New tagline" in response.text and "Old tagline" not in response.text
        assert "New words." in response.text and "Lingxi Two" in public_list(client)
        assert live.slug == "lingxi" and live.published_at == dates[0]
        assert live.first_published_at == dates[0]
        assert live.owner == founder and live.verified
        assert Project.objects.count() == 1

    def test_an_update_cannot_be_scheduled(self, founder, editor, reviewer):
        live = make_project(owner=founder, tagline="Old tagline")
        update = approved(
            founder, editor=editor, reviewer=reviewer, kind="update", project=live, tagline="New"
        )
        events = Event.objects.count()
        with pytest.raises(TransitionError, match="Only new projects can be scheduled"):
            workflow.publish(update, by=editor, publish_at=timezone.now() + timedelta(days=1))
        update.refresh_from_db()
        live.refresh_from_db()
        assert (update.state, live.tagline, Event.objects.count()) == (State.APPROVED, "Old tagline", events)


class TestPublishClaim:
    def test_it_sets_the_owner_and_keeps_the_content(self, client, founder, editor, reviewer):
        imported = make_project(listed_by="editors", name="Imported", tagline="As the editors wrote it")
        claim = workflow.claim(imported, by=founder, evidence="I am ceo@imported.example")
        Submission.objects.filter(pk=claim.pk).update(tagline="Something else entirely")
        workflow.assign(claim, by=editor, reviewer=reviewer)
        review(claim, reviewer)
        workflow.publish(workflow.approve(claim, by=editor), by=editor)
        imported.refresh_from_db()
        assert imported.owner == founder
        assert (imported.name, imported.tagline, imported.slug) == (
            "Imported",
            "As the editors wrote it",
            "imported",
        )
        # The claim reviewed who owns it, not what the editors wrote: claimed, not reviewed.
        assert not imported.verified and imported.claimed_at and imported.is_public
        assert imported.provenance == imported.Provenance.CLAIMED
        assert "As the editors wrote it" in page(client, imported).text

    def test_a_claim_cannot_be_scheduled(self, founder, editor, reviewer):
        imported = make_project(listed_by="editors")
        claim = workflow.claim(imported, by=founder, evidence="mine")
        workflow.assign(claim, by=editor, reviewer=reviewer)
        review(claim, reviewer)
        claim = workflow.approve(claim, by=editor)
        with pytest.raises(TransitionError):
            workflow.publish(claim, by=editor, publish_at=timezone.now() + timedelta(hours=1))
        imported.refresh_from_db()
        assert imported.owner is None


class TestScheduledPublication:
    @pytest.mark.parametrize("how", ["argument", "field"])
    def test_it_stays_off_the_public_site_until_its_time(self, client, founder, editor, reviewer, how):
        submission = approved(founder, editor=editor, reviewer=reviewer, name="Tomorrow AI", tagline="Soon")
        when = timezone.now() + timedelta(hours=1)
        if how == "field":
            Submission.objects.filter(pk=submission.pk).update(publish_at=when)
            submission = workflow.publish(submission, by=editor)
        else:
            submission = workflow.publish(submission, by=editor, publish_at=when)
        project = submission.project
        assert submission.state == State.PUBLISHED and project.published and project.published_at == when
        assert "Scheduled for" in submission.events.get(action="publish").note
        assert page(client, project).status_code == 404
        assert "Tomorrow AI" not in public_list(client)
        assert "Tomorrow AI" not in client.get(reverse("registry:home")).text
        assert not Project.objects.published().exists()

        Project.objects.filter(pk=project.pk).update(published_at=timezone.now() - timedelta(seconds=1))
        assert page(client, project).status_code == 200
        assert "Tomorrow AI" in public_list(client)


class TestUnpublishRepublish:
    def test_unpublish_takes_it_off_and_republish_brings_it_back(self, client, founder, editor, reviewer):
        project = published(founder, editor=editor, reviewer=reviewer, name="Gone Soon").project
        assert page(client, project).status_code == 200

        workflow.unpublish(project, by=editor, reason="The website is down for months.")
        assert page(client, project).status_code == 404
        assert "Gone Soon" not in public_list(client)
        event = Event.objects.get(project=project, action="unpublish")
        assert (event.actor, event.note, event.submission) == (
            editor,
            "The website is down for months.",
            None,
        )
        with pytest.raises(TransitionError, match=r"not published|未发布"):
            workflow.unpublish(project, by=editor, reason="again")

        workflow.republish(project, by=editor, reason="It is back online.")
        assert page(client, project).status_code == 200
        assert "Gone Soon" in public_list(client)
        event = Event.objects.get(project=project, action="republish")
        assert (event.actor, event.note) == (editor, "It is back online.")

    def test_publishing_an_update_does_not_undo_an_unpublish(self, client, founder, editor, reviewer):
        live = make_project(owner=founder, tagline="Old tagline")
        update = approved(
            founder, editor=editor, reviewer=reviewer, kind="update", project=live, tagline="New"
        )
        workflow.unpublish(live, by=editor, reason="Misleading claims on the website.")
        workflow.publish(update, by=editor)
        live.refresh_from_db()
        assert live.tagline == "New"
        assert not live.is_public and page(client, live).status_code == 404

    def test_only_editors_unpublish(self, founder, reviewer):
        project = make_project(owner=founder)
        for person in (founder, reviewer, make_user()):
            with pytest.raises(TransitionError):
                workflow.unpublish(project, by=person, reason="no")
        project.refresh_from_db()
        assert project.published and not Event.objects.exists()


class TestAutoPublish:
    @pytest.fixture(autouse=True)
    def auto_publish(self):
        with override_settings(AUTO_PUBLISH=True):
            yield

    def test_approval_publishes_at_once(self, client, founder, editor, reviewer):
        submission = approved(founder, editor=editor, reviewer=reviewer, name="Auto AI")
        submission.refresh_from_db()
        assert submission.state == State.PUBLISHED
        project = submission.project
        assert project.owner == founder and project.is_public
        assert list(submission.events.values_list("action", "from_state", "to_state"))[-2:] == [
            ("approve", "in_review", "approved"),
            ("publish", "approved", "published"),
        ]
        assert page(client, project).status_code == 200

    def test_an_approved_update_goes_live_at_once(self, client, founder, editor, reviewer):
        live = make_project(owner=founder, tagline="Old tagline")
        approved(
            founder, editor=editor, reviewer=reviewer, kind="update", project=live, tagline="New tagline"
        )
        assert "New tagline" in page(client, live).text


# --- What the founder sees ------------------------------------------------------------------------


class TestFounderPages:
    def test_internal_notes_never_appear_on_founder_pages(self, founder_client, founder, editor, reviewer):
        for decision in ("request_changes", "reject", "approve"):
            submission = in_review(
                founder, editor=editor, reviewer=reviewer, comment="Add the team page.", internal_note=INTERNAL,
            )  # fmt: skip
            if decision == "approve":
                workflow.publish(workflow.approve(submission, by=editor, note="Welcome."), by=editor)
            else:
                getattr(workflow, decision)(submission, by=editor, **{
                    "request_changes": {"comment": "Please fix."}, "reject": {"reason": "No."},
                }[decision])  # fmt: skip
            for url in (
                reverse("review:dashboard"),
                reverse("review:submission-detail", args=[submission.pk]),
            ):
                response = founder_client.get(url)
                assert response.status_code == 200
                assert INTERNAL not in response.text, url

    def test_the_reviewers_comments_for_the_founder_are_on_the_submission_page(
        self, founder_client, founder, editor, reviewer
    ):
        submission = in_review(
            founder, editor=editor, reviewer=reviewer, comment="Add the team page, please."
        )
        workflow.request_changes(submission, by=editor, comment="See the reviewer's comment.")
        response = founder_client.get(reverse("review:submission-detail", args=[submission.pk]))
        assert "Add the team page, please." in response.text

    def test_staff_only_steps_are_left_out_of_the_founder_timeline(
        self, founder_client, founder, editor, reviewer
    ):
        submission = in_review(founder, editor=editor, reviewer=reviewer)
        response = founder_client.get(reverse("review:submission-detail", args=[submission.pk]), headers={
            "accept-language": "en",
        })  # fmt: skip
        assert response.status_code == 200
        assert "Reviewer assigned" not in response.text
        assert "Reviewed" not in response.text


# --- Decision emails ------------------------------------------------------------------------------

PROJECT_NAME = "Lingxi Support"  # ASCII: any CJK in an English email would come from the template
FOUNDER_NOTE = "Founder-facing note 31c5"
REVIEWER_COMMENT = "Reviewer comment for the founder 8e2b"


def prepare(action, *, founder, editor, reviewer, language):
    """A submission in `language` one step before `action`.

    Returns (submission, take, meant): `take()` takes the action; `meant` is the text the
    founder must read in its email."""
    submission = in_review(
        founder, editor=editor, reviewer=reviewer, name=PROJECT_NAME, tagline="Support desk",
        comment=REVIEWER_COMMENT, internal_note=INTERNAL, language=language,
    )  # fmt: skip
    if action == "request_changes":
        take = lambda: workflow.request_changes(submission, by=editor, comment=FOUNDER_NOTE)  # noqa: E731
        return submission, take, [FOUNDER_NOTE, REVIEWER_COMMENT]
    if action == "reject":
        take = lambda: workflow.reject(submission, by=editor, reason=FOUNDER_NOTE)  # noqa: E731
        return submission, take, [FOUNDER_NOTE, REVIEWER_COMMENT]
    if action == "approve":
        take = lambda: workflow.approve(submission, by=editor, note=FOUNDER_NOTE)  # noqa: E731
        return submission, take, [FOUNDER_NOTE]
    submission = workflow.approve(submission, by=editor)
    if action == "publish":
        return submission, lambda: workflow.publish(submission, by=editor), []
    submission = workflow.publish(submission, by=editor)
    take = lambda: workflow.unpublish(submission.project, by=editor, reason=FOUNDER_NOTE)  # noqa: E731
    return submission, take, [FOUNDER_NOTE]


def decide(action, capture, **people_and_language):
    """Prepare without sending anything, then take `action` and run what it queued for after the commit."""
    submission, take, meant = prepare(action, **people_and_language)
    with capture(execute=True) as callbacks:
        take()
    return submission, meant, callbacks


def everything_in(message):
    return "\n".join([message.subject, message.body, *(content for content, _type in message.alternatives)])


DECISIONS = ["request_changes", "approve", "reject", "publish", "unpublish"]


def spy_on_languages(monkeypatch):
    """The languages the decision emails are rendered in, whatever the translations hold."""
    languages = []
    render = emails.render

    def spy(action, context, language):
        languages.append(language)
        return render(action, context, language)

    monkeypatch.setattr(emails, "render", spy)
    return languages


class TestDecisionEmails:
    @pytest.fixture
    def people(self, founder, editor, reviewer):
        return {"founder": founder, "editor": editor, "reviewer": reviewer}

    @pytest.mark.parametrize(
        "language",
        ["en", "zh-hans"],
    )
    def test_the_unpublish_email_is_in_the_founders_language(
        self, language, people, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
    ):
        languages = spy_on_languages(monkeypatch)
        decide("unpublish", django_capture_on_commit_callbacks, language=language, **people)
        assert languages == [language]

    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    @pytest.mark.parametrize("action", ["request_changes", "approve", "reject", "publish"])
    def test_it_is_written_in_the_founders_language(
        self, action, language, people, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
    ):
        languages = spy_on_languages(monkeypatch)
        decide(action, django_capture_on_commit_callbacks, language=language, **people)
        assert languages == [language]
        [message] = mailoutbox
        if language == "en":
            assert not CJK.search(message.subject + message.body), (message.subject, message.body)

    @pytest.mark.parametrize("action", DECISIONS)
    def test_the_chinese_email_reads_in_chinese(
        self, action, people, mailoutbox, django_capture_on_commit_callbacks
    ):
        decide(action, django_capture_on_commit_callbacks, language="zh-hans", **people)
        [message] = mailoutbox
        assert message.to == [people["founder"].email]
        assert CJK.search(message.subject), message.subject
        assert CJK.search(message.body), message.body
        assert CJK.search(message.alternatives[0][0]), message.alternatives[0][0]

    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    @pytest.mark.parametrize("action", DECISIONS)
    def test_it_carries_the_comments_and_never_an_internal_note(
        self, action, language, people, mailoutbox, django_capture_on_commit_callbacks
    ):
        _submission, meant, _callbacks = decide(
            action, django_capture_on_commit_callbacks, language=language, **people
        )
        [message] = mailoutbox
        assert message.to == [people["founder"].email], "only the founder; never the person who acted"
        assert message.subject.strip() and "\n" not in message.subject
        assert [kind for _content, kind in message.alternatives] == ["text/html"]
        text = everything_in(message)
        assert INTERNAL not in text
        assert PROJECT_NAME in text
        for expected in meant:
            assert expected in message.body, expected
            assert expected in message.alternatives[0][0], expected

    def test_the_approval_email_carries_the_reviewers_comments(
        self, people, mailoutbox, django_capture_on_commit_callbacks
    ):
        decide("approve", django_capture_on_commit_callbacks, language="en", **people)
        assert REVIEWER_COMMENT in mailoutbox[-1].body

    @pytest.mark.parametrize("action", DECISIONS)
    def test_founder_pages_never_show_an_internal_note(
        self, action, people, founder_client, django_capture_on_commit_callbacks
    ):
        submission, _meant, _callbacks = decide(
            action, django_capture_on_commit_callbacks, language="en", **people
        )
        for url in (reverse("review:dashboard"), reverse("review:submission-detail", args=[submission.pk])):
            response = founder_client.get(url)
            assert response.status_code == 200
            assert INTERNAL not in response.text, url

    def test_steps_that_are_not_decisions_send_nothing(
        self, founder, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            in_review(founder, editor=editor, reviewer=reviewer)  # submit, assign, review
            workflow.start_review(make_submission(founder, state=State.SUBMITTED), by=make_reviewer())
            workflow.withdraw(make_submission(founder), by=founder, reason="Not ready.")
            workflow.republish(make_project(owner=founder, published=False), by=editor, reason="Back.")
        assert mailoutbox == []

    def test_nobody_is_emailed_about_their_own_action(self, mailoutbox, django_capture_on_commit_callbacks):
        """The mail helper itself skips the actor (every decision path goes through it)."""
        owner_editor = make_editor()
        project = make_project(owner=owner_editor)
        with django_capture_on_commit_callbacks(execute=True):
            emails.notify_founder(
                action="unpublish", project=project, recipient=owner_editor, actor=owner_editor
            )
        assert mailoutbox == []

    def test_an_editor_cannot_take_down_their_own_project(self):
        owner_editor = make_editor()
        project = make_project(owner=owner_editor)
        with pytest.raises(TransitionError, match="another editor must decide"):
            workflow.unpublish(project, by=owner_editor, reason="Taking my own project down.")
        project.refresh_from_db()
        assert project.published

    def test_an_imported_listing_without_owner_is_unpublished_without_email(
        self, editor, mailoutbox, django_capture_on_commit_callbacks
    ):
        project = make_project(listed_by="editors")
        with django_capture_on_commit_callbacks(execute=True):
            workflow.unpublish(project, by=editor, reason="Duplicate.")
        assert mailoutbox == [] and not Event.objects.filter(action="mail_failed").exists()

    def test_nothing_is_sent_when_the_decision_is_refused(
        self, founder, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        submission = in_review(founder, editor=editor, reviewer=reviewer, recommendation="reject")
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionError):
            workflow.approve(submission, by=editor)
        assert mailoutbox == []


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


FAILING_MAIL = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}


class TestFailingMail:
    @pytest.fixture(autouse=True)
    def mail_server_down(self):
        with override_settings(MAILERS=FAILING_MAIL):
            yield

    @pytest.mark.parametrize(
        ("action", "state"),
        [
            ("request_changes", State.CHANGES_REQUESTED),
            ("approve", State.APPROVED),
            ("reject", State.REJECTED),
            ("publish", State.PUBLISHED),
        ],
    )
    def test_a_failed_email_keeps_the_decision_and_leaves_a_trace(
        self, action, state, founder, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        people = {"founder": founder, "editor": editor, "reviewer": reviewer}
        submission, _meant, callbacks = decide(
            action, django_capture_on_commit_callbacks, language="en", **people
        )
        mails = [callback for callback in callbacks if callback.__module__ == "review.mailqueue"]
        assert len(mails) == 1, "the email was queued for after the commit"
        submission.refresh_from_db()
        assert submission.state == state
        assert submission.events.filter(action=action).count() == 1
        failed = Event.objects.get(action="mail_failed")
        assert (failed.submission, failed.project) == (submission, None)
        assert action in failed.detail and founder.email in failed.detail
        assert failed.is_internal and not failed.note
        assert mailoutbox == []

    def test_a_failed_unpublish_email_keeps_it_unpublished(
        self, founder, editor, django_capture_on_commit_callbacks
    ):
        project = make_project(owner=founder)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.unpublish(project, by=editor, reason="Broken links.")
        project.refresh_from_db()
        assert not project.published
        failed = Event.objects.get(action="mail_failed")
        assert (failed.project, failed.submission) == (project, None)
        assert "unpublish" in failed.detail
