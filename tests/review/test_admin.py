"""The association's side in the Django admin: who gets in, the review queue, a submission's
page (comparison, duplicates, reviews, trail, conflicts), the buttons and bulk actions
(every one through review.workflow, forged ones refused with nothing changed), conflicts
and the project admin's publication buttons."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from registry.models import Project
from review import workflow
from review.comparison import listing_rows
from review.duplicates import likely_duplicates, normalised_website
from review.models import Conflict, Event, Review, Submission
from review.queue import awaiting_review_by
from tests.base import make_project, make_submission, make_user, track
from tests.review.workflow_builders import make_reviewer, review

pytestmark = pytest.mark.django_db
State = Submission.State
EN = {"accept-language": "en"}


def member(username, group):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def reviewer(db):
    return member("reviewer", "Reviewers")


@pytest.fixture
def other_reviewer(db):
    return member("other_reviewer", "Reviewers")


@pytest.fixture
def editor(db):
    return member("editor", "Editors")


def client_for(user=None):
    client = Client(headers=EN)
    if user is not None:
        client.force_login(user)
    return client


def change_url(submission):
    return reverse("admin:review_submission_change", args=[submission.pk])


def act_url(submission, action):
    return reverse("admin:review_submission_transition", args=[submission.pk, action])


def url(name, obj):
    return reverse(f"admin:{name}", args=[obj.pk])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def errors_of(response):
    return [text for level, text in messages_of(response) if level == "error"]


def snapshot(submission):
    """What a refused action must leave alone."""
    submission.refresh_from_db()
    return (
        submission.state,
        submission.version,
        Event.objects.count(),
        Review.objects.count(),
        Conflict.objects.count(),
        sorted(submission.reviewers.values_list("pk", flat=True)),
        Project.objects.count(),
    )


def in_review(founder, reviewer=None, **fields):
    submission = make_submission(founder, state=State.IN_REVIEW, **fields)
    if reviewer is not None:
        submission.reviewers.add(reviewer)
    return submission


def approving_review(submission, reviewer, **fields):
    fields.setdefault("authenticity", 4)
    fields.setdefault("innovation", 4)
    fields.setdefault("completeness", 4)
    fields.setdefault("recommendation", Review.Recommendation.APPROVE)
    return Review.objects.create(submission=submission, reviewer=reviewer, **fields)


# --- Who gets in ------------------------------------------------------------------------


def page_urls(submission, project):
    return [
        reverse("admin:index"),
        reverse("admin:review_submission_changelist"),
        change_url(submission),
        reverse("admin:review_conflict_changelist"),
        reverse("admin:review_conflict_add"),
        reverse("admin:registry_project_changelist"),
        url("registry_project_change", project),
    ]


def button_urls(submission, project):
    return [
        act_url(submission, "start_review"),
        url("review_submission_review", submission),
        url("review_submission_assign", submission),
        url("review_submission_conflict", submission),
        url("registry_project_unpublish", project),
        url("registry_project_republish", project),
    ]


class TestAccess:
    def test_visitors_are_sent_to_the_admin_login(self, founder):
        submission, project = make_submission(founder, state=State.SUBMITTED), make_project()
        client = client_for()
        for page in page_urls(submission, project)[1:]:
            response = client.get(page)
            assert response.status_code == 302, page
            assert response.url.startswith("/admin/login/"), page
        for button in button_urls(submission, project):
            response = client.post(button)
            assert response.status_code == 302, button
            assert response.url.startswith("/admin/login/"), button

    def test_founders_without_staff_status_are_sent_to_the_admin_login(self, founder):
        submission, project = make_submission(founder, state=State.SUBMITTED), make_project()
        client = client_for(founder)
        for page in page_urls(submission, project):
            assert client.get(page).status_code == 302, page
        for button in button_urls(submission, project):
            assert client.post(button).status_code == 302, button
        assert snapshot(submission)[:2] == (State.SUBMITTED, 1)

    def test_staff_outside_both_groups_are_refused(self, founder):
        submission, project = make_submission(founder, state=State.SUBMITTED), make_project()
        client = client_for(make_user("intern", is_staff=True))
        assert client.get(reverse("admin:index")).status_code == 200  # an empty admin
        for page in page_urls(submission, project)[1:]:
            assert client.get(page).status_code == 403, page
        for button in button_urls(submission, project):
            assert client.post(button).status_code == 403, button

    @pytest.mark.parametrize("who", ["reviewer", "editor"])
    def test_reviewers_and_editors_get_every_page(self, who, request, founder):
        user = request.getfixturevalue(who)
        submission, project = make_submission(founder, state=State.SUBMITTED), make_project()
        client = client_for(user)
        for page in page_urls(submission, project):
            assert client.get(page).status_code == 200, page

    def test_superusers_get_the_queue(self, founder):
        submission = make_submission(founder, state=State.SUBMITTED)
        client = client_for(make_user("root", is_staff=True, is_superuser=True))
        assert client.get(reverse("admin:review_submission_changelist")).status_code == 200
        assert client.get(change_url(submission)).status_code == 200

    @pytest.mark.parametrize("who", ["reviewer", "editor"])
    def test_nobody_adds_or_deletes_submissions_in_the_admin(self, who, request, founder):
        submission = make_submission(founder, state=State.SUBMITTED)
        client = client_for(request.getfixturevalue(who))
        assert client.get(reverse("admin:review_submission_add")).status_code == 403
        assert client.post(url("review_submission_delete", submission), {"post": "yes"}).status_code == 403
        assert Submission.objects.filter(pk=submission.pk).exists()

    def test_buttons_answer_only_post(self, editor, founder):
        submission, project = make_submission(founder, state=State.SUBMITTED), make_project()
        client = client_for(editor)
        for button in button_urls(submission, project):
            assert client.get(button).status_code == 405, button

    def test_unknown_submissions_and_actions_are_404(self, editor, founder):
        submission = make_submission(founder, state=State.SUBMITTED)
        client = client_for(editor)
        assert client.post(act_url(submission, "withdraw"), {"version": 1}).status_code == 404
        assert client.post(act_url(submission, "nonsense"), {"version": 1}).status_code == 404
        missing = reverse("admin:review_submission_transition", args=[999999, "start_review"])
        assert client.post(missing, {"version": 1}).status_code == 404

    def test_reviews_and_events_have_no_admin_of_their_own(self, editor):
        # Internal notes are shown only on a submission's page, to people without a conflict.
        client = client_for(editor)
        assert client.get("/admin/review/review/").status_code == 404
        assert client.get("/admin/review/event/").status_code == 404

    def test_the_admin_is_branded_for_the_map(self, reviewer):
        response = client_for(reviewer).get(reverse("admin:index"))
        assert "<title>AI Innovation Map — Review" in response.content.decode()
        assert 'id="site-name"><a href="/admin/">AI Innovation Map — Review</a>' in response.content.decode()

    def test_the_branding_is_translated_with_the_interface(self):
        for title in (admin.site.site_header, admin.site.site_title, admin.site.index_title):
            assert isinstance(title, Promise)  # gettext_lazy: read in the request's language
            assert str(title) == "AI Innovation Map — Review"


# --- The queue ----------------------------------------------------------------------------


def changelist(client, **params):
    return client.get(reverse("admin:review_submission_changelist"), params)


def listed(response):
    return {submission.pk for submission in response.context["cl"].result_list}


class TestQueue:
    def test_it_shows_the_columns_a_reviewer_needs(self, reviewer, other_reviewer, founder):
        submission = in_review(founder, reviewer, name="灵犀客服")
        submission.reviewers.add(other_reviewer)
        approving_review(submission, reviewer)
        Submission.objects.filter(pk=submission.pk).update(submitted_at=timezone.now())
        response = changelist(client_for(reviewer))
        row = response.content.decode()
        assert "灵犀客服" in row
        assert "founder@example.com" in row
        assert "reviewer, other_reviewer" in row or "other_reviewer, reviewer" in row
        result = response.context["cl"].result_list[0]
        assert result.approval_count == 1

    def test_it_filters_by_state_track_and_kind(self, editor, founder):
        submitted = make_submission(founder, state=State.SUBMITTED, track_slug="video")
        approved = make_submission(founder, state=State.APPROVED, track_slug="agents")
        update = make_submission(founder, state=State.SUBMITTED, kind="update", project=make_project())
        client = client_for(editor)
        assert listed(changelist(client, state__exact="approved")) == {approved.pk}
        assert listed(changelist(client, track__id__exact=track("video").pk)) == {submitted.pk}
        assert listed(changelist(client, kind__exact="update")) == {update.pk}

    def test_it_searches_names_websites_organisations_and_founder_emails(self, editor, founder):
        by_site = make_submission(founder, state=State.SUBMITTED, website="https://lingxi.example/")
        by_org = make_submission(founder, state=State.SUBMITTED, organization="杭州灵犀科技")
        other = make_submission(make_user("someone"), state=State.SUBMITTED, name_en="Clever Bot")
        client = client_for(editor)
        assert listed(changelist(client, q="lingxi.example")) == {by_site.pk}
        assert listed(changelist(client, q="灵犀科技")) == {by_org.pk}
        assert listed(changelist(client, q="someone@example.com")) == {other.pk}
        assert listed(changelist(client, q="clever")) == {other.pk}

    def test_assigned_to_me_lists_only_mine(self, reviewer, other_reviewer, founder):
        mine = in_review(founder, reviewer)
        in_review(founder, other_reviewer)
        make_submission(founder, state=State.SUBMITTED)
        assert listed(changelist(client_for(reviewer), assigned="me")) == {mine.pk}

    def test_awaiting_my_review_lists_what_i_can_review_and_have_not(self, reviewer, other_reviewer, founder):
        waiting = make_submission(founder, state=State.SUBMITTED)
        assigned = in_review(founder, reviewer)
        reviewed = in_review(founder, reviewer)
        approving_review(reviewed, reviewer)
        someone_elses = in_review(founder, other_reviewer)
        reviewed_by_other = make_submission(founder, state=State.SUBMITTED)
        approving_review(reviewed_by_other, other_reviewer)
        for state in (State.DRAFT, State.APPROVED, State.REJECTED, State.PUBLISHED, State.WITHDRAWN):
            make_submission(founder, state=state)
        response = changelist(client_for(reviewer), awaiting="me")
        assert listed(response) == {waiting.pk, assigned.pk, reviewed_by_other.pk}
        assert someone_elses.pk not in listed(response)

    def test_awaiting_my_review_leaves_out_conflicts_and_my_own(self, reviewer, founder):
        project = make_project(owner=founder)
        conflicted = make_submission(founder, state=State.SUBMITTED)
        make_submission(founder, state=State.SUBMITTED, kind="update", project=project)
        make_submission(founder, state=State.SUBMITTED, organization="  Lingxi   TECH ")
        make_submission(founder, state=State.SUBMITTED, kind="claim", project=make_project(owner=reviewer))
        make_submission(reviewer, state=State.SUBMITTED)
        renamed = make_project(owner=founder, organization="Lingxi Tech")  # the live organisation counts too
        make_submission(
            founder, state=State.SUBMITTED, kind="update", project=renamed, organization="New Name"
        )
        free = make_submission(founder, state=State.SUBMITTED, organization="Other Co")
        for subject in ({"submission": conflicted}, {"project": project}, {"organization": "lingxi tech"}):
            Conflict.objects.create(reviewer=reviewer, kind=Conflict.Kind.ADVISORY, **subject)
        waiting = awaiting_review_by(Submission.objects.all(), reviewer)
        assert list(waiting.values_list("pk", flat=True)) == [free.pk]

    def test_awaiting_my_review_is_empty_for_editors(self, editor, founder):
        make_submission(founder, state=State.SUBMITTED)
        assert listed(changelist(client_for(editor), awaiting="me")) == set()

    @pytest.mark.parametrize(
        "filters",
        [{}, {"awaiting": "me"}, {"awaiting": "me", "assigned": "me", "state__exact": "in_review"}],
    )
    def test_the_number_of_queries_does_not_grow_with_rows(
        self, filters, reviewer, other_reviewer, founder, django_assert_max_num_queries
    ):
        client = client_for(reviewer)
        Conflict.objects.create(reviewer=reviewer, kind="other", organization="Elsewhere")

        def add_rows(count):
            for _number in range(count):
                submission = in_review(founder, reviewer)
                submission.reviewers.add(other_reviewer)
                approving_review(submission, other_reviewer)

        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert (
                    len(changelist(client, **filters).context["cl"].result_list) == Submission.objects.count()
                )
            return len(captured)

        add_rows(3)
        with_few = queries()
        add_rows(20)
        assert queries() == with_few
        with django_assert_max_num_queries(12):
            changelist(client, **filters)


# --- A submission's page -------------------------------------------------------------------


class TestComparison:
    def test_it_marks_the_fields_an_update_changes(self, founder, editor):
        project = make_project(
            owner=founder,
            name="灵犀",
            hq_city="杭州",
            hq_country="CN",
            tagline="Old tagline",
            modalities=["text"],
            secondary=["video"],
        )
        submission = make_submission(
            founder,
            state=State.SUBMITTED,
            kind="update",
            project=project,
            name="灵犀",
            tagline="New tagline",
            description=project.description,
            modalities=["text", "audio"],
        )
        submission.secondary_tracks.set([track("video"), track("coding")])
        changed = {row.name for row in listing_rows(submission, project) if row.changed}
        assert changed == {"tagline", "modalities", "secondary_tracks"}

        page = client_for(editor).get(change_url(submission)).content.decode()
        assert 'class="listing-row changed" data-field="tagline"' in page
        assert 'class="listing-row changed" data-field="secondary_tracks"' in page
        assert 'class="listing-row" data-field="name"' in page
        assert "Old tagline" in page and "New tagline" in page

    def test_every_listing_field_but_the_slug_is_compared(self, founder):
        project = make_project(owner=founder)
        submission = make_submission(founder, kind="update", project=project)
        names = [row.name for row in listing_rows(submission, project)]
        assert "secondary_tracks" in names and "logo" in names and "hq_country" in names
        assert "slug" not in names

    def test_a_new_submission_shows_its_content_alone(self, founder, reviewer):
        submission = make_submission(founder, state=State.SUBMITTED, tagline="独一无二的标语")
        page = client_for(reviewer).get(change_url(submission)).content.decode()
        assert "独一无二的标语" in page
        assert "changed-mark" not in page

    def test_the_logo_is_shown(self, founder, reviewer):
        submission = make_submission(founder, state=State.SUBMITTED, logo="logos/abc.webp")
        page = client_for(reviewer).get(change_url(submission)).content.decode()
        assert '<img src="/media/logos/abc.webp"' in page


class TestDuplicates:
    @pytest.mark.parametrize(
        ("url", "normalised"),
        [
            ("https://www.Example.com/Team/", "example.com/team"),
            ("http://example.com", "example.com"),
            ("HTTPS://GitHub.com/lingxi/bot/?tab=readme#top", "github.com/lingxi/bot"),
            ("", ""),
            ("   ", ""),
        ],
    )
    def test_it_normalises_websites(self, url, normalised):
        assert normalised_website(url) == normalised

    def test_it_finds_projects_and_open_submissions_with_the_same_website(self, founder):
        same = make_project(name="Alpha", website="https://www.github.com/Lingxi/Bot/")
        other_repo = make_project(name="Beta", website="https://github.com/someone/else")
        open_same = make_submission(
            founder, state=State.SUBMITTED, name="Gamma", website="http://github.com/lingxi/bot"
        )
        make_submission(founder, state=State.WITHDRAWN, name="Delta", website="https://github.com/lingxi/bot")
        submission = make_submission(
            founder, state=State.SUBMITTED, name="Zeta", website="https://github.com/lingxi/bot"
        )
        projects, submissions = likely_duplicates(submission)
        assert list(projects) == [same]
        assert list(submissions) == [open_same]
        assert other_repo not in projects

    def test_sharing_only_a_host_is_not_a_duplicate(self, founder):
        make_project(name="Alpha", website="https://huggingface.co/lingxi")
        make_project(name="Beta", website="https://github.com/")
        submission = make_submission(founder, name="Zeta", website="https://huggingface.co/other")
        assert [list(found) for found in likely_duplicates(submission)] == [[], []]

    def test_it_finds_similar_names(self, founder):
        equal = make_project(name="DEEPLANG")
        containing = make_project(name="DeepLang Cloud")
        contained = make_project(name="Deep", name_en="")
        by_english_name = make_project(name="深言科技", name_en="deeplang")
        make_project(name="Unrelated")
        submission = make_submission(founder, name="DeepLang", website="")
        projects, _submissions = likely_duplicates(submission)
        assert set(projects) == {equal, containing, contained, by_english_name}

    def test_short_names_match_only_when_equal(self, founder):
        equal = make_project(name="AI")
        make_project(name="AI Helper")
        make_project(name="灵犀")
        submission = make_submission(founder, name="ai", name_en="", website="")
        projects, _submissions = likely_duplicates(submission)
        assert list(projects) == [equal]

    def test_an_update_is_not_its_own_duplicate(self, founder):
        project = make_project(owner=founder, name="灵犀客服", website="https://lingxi.example/")
        submission = make_submission(
            founder, kind="update", project=project, name="灵犀客服", website="https://lingxi.example/"
        )
        assert [list(found) for found in likely_duplicates(submission)] == [[], []]

    def test_the_page_links_to_them(self, founder, reviewer):
        project = make_project(name="灵犀客服机器人")
        submission = make_submission(founder, state=State.SUBMITTED, name="灵犀客服")
        page = client_for(reviewer).get(change_url(submission)).content.decode()
        assert f'href="{url("registry_project_change", project)}"' in page


class TestWhatStaffSee:
    def test_reviews_and_internal_notes_are_shown_to_staff_without_a_conflict(
        self, founder, reviewer, other_reviewer, editor
    ):
        submission = in_review(founder, reviewer)
        approving_review(submission, reviewer, comment="Looks real.", internal_note="SECRET-NOTE")
        workflow.assign(submission, by=editor, reviewer=other_reviewer)
        for user in (other_reviewer, editor):
            page = client_for(user).get(change_url(submission)).content.decode()
            assert "Looks real." in page
            assert "SECRET-NOTE" in page
            assert "assigned other_reviewer" in page  # the event's internal detail

    def test_internal_notes_are_hidden_from_a_conflicted_reviewer(
        self, founder, reviewer, other_reviewer, editor
    ):
        submission = in_review(founder, reviewer, organization="Lingxi")
        approving_review(submission, reviewer, comment="Looks real.", internal_note="SECRET-NOTE")
        workflow.assign(submission, by=editor, reviewer=other_reviewer)
        Conflict.objects.create(reviewer=other_reviewer, kind="investment", organization="lingxi")
        response = client_for(other_reviewer).get(change_url(submission))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Looks real." in page  # the comment to the founder is no secret
        assert "SECRET-NOTE" not in page
        assert "assigned other_reviewer" not in page
        assert 'class="conflict-warning"' in page
        assert response.context["transitions"] == []
        assert response.context["review_form"] is None

    def test_an_assigned_reviewer_gets_the_review_form_and_the_decisions(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        approving_review(submission, reviewer)
        response = client_for(reviewer).get(change_url(submission))
        actions = [transition["action"] for transition in response.context["transitions"]]
        assert actions == ["request_changes", "approve", "reject"]
        assert response.context["review_form"] is not None
        assert response.context["assign_form"] is None
        page = response.content.decode()
        assert 'name="version" value="1"' in page
        assert 'data-action="reject"' in page

    def test_the_review_form_starts_from_my_earlier_review(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        approving_review(submission, reviewer, innovation=2, comment="Earlier words.")
        form = client_for(reviewer).get(change_url(submission)).context["review_form"]
        assert (form["innovation"].value(), form["comment"].value()) == (2, "Earlier words.")

    def test_an_editor_gets_publish_and_a_publish_time_for_new_projects(self, founder, editor):
        submission = make_submission(founder, state=State.APPROVED)
        response = client_for(editor).get(change_url(submission))
        (transition,) = response.context["transitions"]
        assert transition["action"] == "publish"
        assert "publish_at" in transition["form"].fields

    def test_the_assign_select_offers_reviewers_without_a_conflict(
        self, founder, reviewer, other_reviewer, editor
    ):
        submission = make_submission(founder, state=State.SUBMITTED)
        Conflict.objects.create(reviewer=other_reviewer, kind="personal", submission=submission)
        response = client_for(editor).get(change_url(submission))
        assert list(response.context["assign_form"].fields["reviewer"].queryset) == [reviewer]

    def test_my_conflicts_with_the_submission_are_listed(self, founder, reviewer):
        submission = make_submission(founder, state=State.SUBMITTED, organization="Lingxi")
        Conflict.objects.create(
            reviewer=reviewer, kind="employment", organization="LINGXI", note="ex-colleague"
        )
        Conflict.objects.create(reviewer=reviewer, kind="employment", organization="Unrelated Co")
        response = client_for(reviewer).get(change_url(submission))
        assert [conflict.organization for conflict in response.context["my_conflicts"]] == ["LINGXI"]
        assert "ex-colleague" in response.content.decode()

    def test_the_event_trail_lists_every_event(self, founder, reviewer, editor):
        submission = make_submission(founder, state=State.SUBMITTED)
        workflow.assign(submission, by=editor, reviewer=reviewer)
        page = client_for(reviewer).get(change_url(submission)).content.decode()
        assert 'class="event-row" data-action="assign"' in page

    def test_nothing_on_the_page_is_editable_through_the_admin_form(self, founder, editor):
        submission = make_submission(founder, state=State.SUBMITTED, name="Original")
        response = client_for(editor).post(change_url(submission), {"name": "Changed", "state": "published"})
        assert response.status_code == 403
        submission.refresh_from_db()
        assert (submission.name, submission.state) == ("Original", State.SUBMITTED)


# --- The buttons -------------------------------------------------------------------------------


class TestButtons:
    def test_a_reviewer_takes_a_submission_scores_it_and_an_editor_approves_it(
        self, founder, reviewer, editor
    ):
        submission = make_submission(founder, state=State.SUBMITTED)
        client = client_for(reviewer)
        response = client.post(act_url(submission, "start_review"), {"version": 1})
        assert response.status_code == 302 and response.url == change_url(submission)
        assert messages_of(response) == [("success", f"“{submission.name}” is now in review.")]
        submission.refresh_from_db()
        assert submission.state == State.IN_REVIEW
        assert list(submission.reviewers.all()) == [reviewer]

        scores = {"authenticity": 5, "innovation": 4, "completeness": 3, "recommendation": "approve"}
        response = client.post(
            url("review_submission_review", submission),
            {"version": submission.version, "comment": "Good.", "internal_note": "Checked.", **scores},
        )
        assert messages_of(response)[-1] == ("success", "Your review is saved.")
        review = Review.objects.get()
        assert (review.reviewer, review.authenticity, review.comment, review.internal_note) == (
            reviewer, 5, "Good.", "Checked.",
        )  # fmt: skip

        # Self-assigned, their own approving review alone cannot carry (issue 15, decision 0019)
        response = client.post(act_url(submission, "approve"), {"version": submission.version, "text": ""})
        submission.refresh_from_db()
        assert submission.state == State.IN_REVIEW
        assert (
            messages_of(response)[-1][0] == "error"
            and "took this submission on yourself" in messages_of(response)[-1][1]
        )

        response = client_for(editor).post(
            act_url(submission, "approve"), {"version": submission.version, "text": ""}
        )
        submission.refresh_from_db()
        assert submission.state == State.APPROVED
        assert messages_of(response)[-1] == ("success", f"“{submission.name}” is now approved.")

    def test_a_reviewer_an_editor_assigned_may_approve_on_their_review(self, founder, reviewer, editor):
        submission = make_submission(founder, state=State.SUBMITTED)
        workflow.assign(submission, by=editor, reviewer=reviewer)
        review(submission, reviewer)
        assert workflow.approve(submission, by=reviewer).state == State.APPROVED

    def test_a_self_assigned_reviewer_may_approve_with_another_reviewers_approval(
        self, founder, reviewer, editor
    ):
        other = make_reviewer()
        submission = make_submission(founder, state=State.SUBMITTED)
        workflow.start_review(submission, by=reviewer)
        workflow.assign(submission, by=editor, reviewer=other)
        review(submission, reviewer)
        with pytest.raises(workflow.TransitionError):
            workflow.approve(submission, by=reviewer)
        review(submission, other)
        assert workflow.approve(submission, by=reviewer).state == State.APPROVED

    def test_an_editor_assigns_a_reviewer(self, founder, reviewer, editor):
        submission = make_submission(founder, state=State.SUBMITTED)
        response = client_for(editor).post(
            url("review_submission_assign", submission), {"version": 1, "reviewer": reviewer.pk}
        )
        assert messages_of(response) == [("success", "reviewer is assigned.")]
        submission.refresh_from_db()
        assert (submission.state, list(submission.reviewers.all())) == (State.IN_REVIEW, [reviewer])

    def test_an_editor_publishes_at_a_chosen_time(self, founder, editor):
        submission = make_submission(founder, state=State.APPROVED, name="灵犀客服")
        when = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
        response = client_for(editor).post(
            act_url(submission, "publish"), {"version": 1, "publish_at": when.strftime("%Y-%m-%dT%H:%M")}
        )
        assert messages_of(response)[0][0] == "success"
        project = Project.objects.get()
        assert project.published_at == when
        assert not Project.objects.published().exists()  # scheduled, not public yet

    def test_an_update_is_published_at_once_whatever_time_is_posted(self, founder, editor):
        project = make_project(owner=founder, name="Old name")
        submission = make_submission(
            founder, state=State.APPROVED, kind="update", project=project, name="New"
        )
        later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        client_for(editor).post(act_url(submission, "publish"), {"version": 1, "publish_at": later})
        project.refresh_from_db()
        assert project.name == "New"
        assert Project.objects.published().filter(pk=project.pk).exists()

    def test_approving_without_an_approving_review_is_refused(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        before = snapshot(submission)
        response = client_for(reviewer).post(act_url(submission, "approve"), {"version": 1})
        assert errors_of(response)[0].startswith("Approval needs 1 approving review(s)")
        assert snapshot(submission) == before

    def test_request_changes_needs_a_comment(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        before = snapshot(submission)
        response = client_for(reviewer).post(
            act_url(submission, "request_changes"), {"version": 1, "text": " "}
        )
        assert errors_of(response) == ["Give a reason: the founder will read it."]
        assert snapshot(submission) == before

    def test_a_reviewer_declares_a_conflict_and_is_taken_off(self, founder, reviewer):
        submission = in_review(founder, reviewer, organization="Lingxi")
        response = client_for(reviewer).post(
            url("review_submission_conflict", submission),
            {"subject": "organization", "kind": "investment", "note": "I invested."},
        )
        assert messages_of(response) == [("success", "The conflict of interest is recorded.")]
        conflict = Conflict.objects.get()
        assert (conflict.reviewer, conflict.declared_by, conflict.organization) == (
            reviewer,
            reviewer,
            "Lingxi",
        )
        assert not submission.reviewers.exists()

    def test_an_editor_declares_a_conflict_for_a_reviewer(self, founder, reviewer, editor):
        submission = make_submission(founder, state=State.SUBMITTED)
        client_for(editor).post(
            url("review_submission_conflict", submission),
            {"subject": "submission", "kind": "personal", "reviewer": reviewer.pk},
        )
        conflict = Conflict.objects.get()
        assert (conflict.reviewer, conflict.declared_by, conflict.submission) == (
            reviewer,
            editor,
            submission,
        )


class TestForgedPosts:
    """Hand-made POSTs by people without the role: the workflow refuses, nothing changes."""

    def test_a_reviewer_cannot_publish(self, founder, reviewer):
        submission = make_submission(founder, state=State.APPROVED)
        before = snapshot(submission)
        response = client_for(reviewer).post(act_url(submission, "publish"), {"version": 1})
        assert response.status_code == 302
        assert errors_of(response) == ["Only an editor can publish this submission."]
        assert snapshot(submission) == before

    def test_a_conflicted_reviewer_cannot_approve(self, founder, reviewer):
        submission = in_review(founder, reviewer, organization="Lingxi")
        approving_review(submission, reviewer)
        Conflict.objects.create(reviewer=reviewer, kind="employment", organization="Lingxi")
        before = snapshot(submission)
        response = client_for(reviewer).post(act_url(submission, "approve"), {"version": 1})
        assert "conflict of interest" in errors_of(response)[0]
        assert snapshot(submission) == before

    def test_a_reviewer_cannot_approve_what_is_not_assigned_to_them(self, founder, reviewer, other_reviewer):
        submission = in_review(founder, other_reviewer)
        approving_review(submission, other_reviewer)
        before = snapshot(submission)
        response = client_for(reviewer).post(act_url(submission, "approve"), {"version": 1})
        assert errors_of(response) == ["Only an assigned reviewer or an editor can approve this submission."]
        assert snapshot(submission) == before

    def test_a_reviewer_cannot_review_what_is_not_assigned_to_them(self, founder, reviewer, other_reviewer):
        submission = in_review(founder, other_reviewer)
        before = snapshot(submission)
        response = client_for(reviewer).post(
            url("review_submission_review", submission),
            {
                "version": 1,
                "authenticity": 5,
                "innovation": 5,
                "completeness": 5,
                "recommendation": "approve",
            },
        )
        assert errors_of(response) == ["Only a reviewer assigned to this submission can review it."]
        assert snapshot(submission) == before

    def test_a_founder_with_staff_status_cannot_take_their_own(self, reviewer):
        submission = make_submission(reviewer, state=State.SUBMITTED)
        before = snapshot(submission)
        response = client_for(reviewer).post(act_url(submission, "start_review"), {"version": 1})
        assert "founder of this submission" in errors_of(response)[0]
        assert snapshot(submission) == before

    def test_a_reviewer_cannot_assign(self, founder, reviewer, other_reviewer):
        submission = make_submission(founder, state=State.SUBMITTED)
        before = snapshot(submission)
        response = client_for(reviewer).post(
            url("review_submission_assign", submission), {"version": 1, "reviewer": other_reviewer.pk}
        )
        assert errors_of(response) == ["Only an editor without a conflict can assign reviewers."]
        assert snapshot(submission) == before

    def test_an_editor_cannot_assign_a_conflicted_reviewer(self, founder, reviewer, editor):
        submission = make_submission(founder, state=State.SUBMITTED)
        Conflict.objects.create(reviewer=reviewer, kind="personal", submission=submission)
        before = snapshot(submission)
        response = client_for(editor).post(
            url("review_submission_assign", submission), {"version": 1, "reviewer": reviewer.pk}
        )
        assert "conflict of interest" in errors_of(response)[0]
        assert snapshot(submission) == before

    def test_a_reviewer_cannot_declare_a_conflict_for_someone_else(self, founder, reviewer, other_reviewer):
        submission = make_submission(founder, state=State.SUBMITTED)
        before = snapshot(submission)
        response = client_for(reviewer).post(
            url("review_submission_conflict", submission),
            {"subject": "submission", "kind": "personal", "reviewer": other_reviewer.pk},
        )
        assert errors_of(response) == [
            "Reviewers declare their own conflicts; editors may declare them for anyone."
        ]
        assert snapshot(submission) == before

    def test_a_stale_form_is_refused(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        approving_review(submission, reviewer)
        Submission.objects.filter(pk=submission.pk).update(version=2)
        before = snapshot(submission)
        client = client_for(reviewer)
        for response in (
            client.post(act_url(submission, "approve"), {"version": 1}),
            client.post(
                url("review_submission_review", submission),
                {
                    "version": 1,
                    "authenticity": 1,
                    "innovation": 1,
                    "completeness": 1,
                    "recommendation": "reject",
                },
            ),
        ):
            assert "changed since you opened it" in errors_of(response)[0]
        assert snapshot(submission) == before

    def test_malformed_input_is_refused_with_a_message(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        before = snapshot(submission)
        client = client_for(reviewer)
        for response in (
            client.post(act_url(submission, "approve"), {"version": "x"}),
            client.post(act_url(submission, "approve"), {}),
            client.post(
                url("review_submission_review", submission),
                {
                    "version": 1,
                    "authenticity": 9,
                    "innovation": 1,
                    "completeness": 1,
                    "recommendation": "yes",
                },
            ),
            client.post(url("review_submission_conflict", submission), {"subject": "project", "kind": "x"}),
        ):
            assert response.status_code == 302
            assert errors_of(response)[0].startswith("Nothing was changed:")
        assert snapshot(submission) == before

    def test_a_transition_from_the_wrong_state_is_refused(self, founder, editor):
        submission = make_submission(founder, state=State.PUBLISHED)
        before = snapshot(submission)
        response = client_for(editor).post(act_url(submission, "publish"), {"version": 1})
        assert errors_of(response) == ["This submission is published, so you cannot publish it."]
        assert snapshot(submission) == before


# --- Bulk actions -------------------------------------------------------------------------------


def bulk(client, action, *submissions):
    return client.post(
        reverse("admin:review_submission_changelist"),
        {"action": action, "_selected_action": [submission.pk for submission in submissions], "index": 0},
    )


class TestBulkActions:
    def test_start_review_reports_each_submission(self, founder, reviewer):
        ready = make_submission(founder, state=State.SUBMITTED, name="Ready")
        approved = make_submission(founder, state=State.APPROVED, name="Done already")
        response = bulk(client_for(reviewer), "start_review_of_selected", ready, approved)
        assert response.status_code == 302
        assert messages_of(response) == [
            ("error", "“Done already”: This submission is approved, so you cannot start the review of it."),
            ("success", "Review started: “Ready”."),
        ]
        ready.refresh_from_db()
        approved.refresh_from_db()
        assert (ready.state, approved.state) == (State.IN_REVIEW, State.APPROVED)
        assert list(ready.reviewers.all()) == [reviewer]

    def test_publish_reports_each_submission(self, founder, editor):
        first = make_submission(founder, state=State.APPROVED, name="First")
        second = make_submission(founder, state=State.APPROVED, name="Second")
        waiting = make_submission(founder, state=State.IN_REVIEW, name="Waiting")
        response = bulk(client_for(editor), "publish_selected", first, waiting, second)
        assert messages_of(response) == [
            ("error", "“Waiting”: This submission is in review, so you cannot publish it."),
            ("success", "Published: “First”, “Second”."),
        ]
        assert set(Project.objects.values_list("name", flat=True)) == {"First", "Second"}

    def test_publish_is_not_offered_to_reviewers(self, founder, reviewer):
        approved = make_submission(founder, state=State.APPROVED)
        response = changelist(client_for(reviewer))
        assert "publish_selected" not in response.content.decode()
        response = bulk(client_for(reviewer), "publish_selected", approved)
        assert not Project.objects.exists()
        approved.refresh_from_db()
        assert approved.state == State.APPROVED

    def test_a_conflicted_reviewer_is_refused_per_submission(self, founder, reviewer):
        mine = make_submission(reviewer, state=State.SUBMITTED, name="Mine")
        response = bulk(client_for(reviewer), "start_review_of_selected", mine)
        assert len(errors_of(response)) == 1
        mine.refresh_from_db()
        assert mine.state == State.SUBMITTED


# --- Conflicts admin -----------------------------------------------------------------------------


class TestConflictAdmin:
    def test_reviewers_see_only_their_own(self, reviewer, other_reviewer, editor):
        mine = Conflict.objects.create(reviewer=reviewer, kind="other", organization="Mine Co")
        theirs = Conflict.objects.create(reviewer=other_reviewer, kind="other", organization="Their Co")
        response = client_for(reviewer).get(reverse("admin:review_conflict_changelist"))
        assert {conflict.pk for conflict in response.context["cl"].result_list} == {mine.pk}
        assert client_for(reviewer).get(url("review_conflict_change", theirs)).status_code == 302  # not found
        response = client_for(editor).get(reverse("admin:review_conflict_changelist"))
        assert {conflict.pk for conflict in response.context["cl"].result_list} == {mine.pk, theirs.pk}

    def test_a_reviewer_declares_their_own_through_the_workflow(self, founder, reviewer):
        submission = in_review(founder, reviewer)
        response = client_for(reviewer).post(
            reverse("admin:review_conflict_add"),
            {
                "reviewer": reviewer.pk,
                "kind": "advisory",
                "submission": submission.pk,
                "note": "I advise them.",
            },
        )
        assert response.status_code == 302
        conflict = Conflict.objects.get()
        assert (conflict.reviewer, conflict.declared_by) == (reviewer, reviewer)
        assert not submission.reviewers.exists()  # taken off by the workflow
        assert Event.objects.filter(submission=submission, action="assign").exists()

    def test_a_reviewer_cannot_declare_one_for_someone_else(self, reviewer, other_reviewer):
        response = client_for(reviewer).post(
            reverse("admin:review_conflict_add"),
            {"reviewer": other_reviewer.pk, "kind": "advisory", "organization": "Lingxi"},
        )
        assert response.status_code == 200
        assert "reviewer" in response.context["adminform"].form.errors
        assert not Conflict.objects.exists()

    def test_an_editor_declares_one_for_a_reviewer(self, reviewer, editor):
        client_for(editor).post(
            reverse("admin:review_conflict_add"),
            {"reviewer": reviewer.pk, "kind": "investment", "organization": "Lingxi"},
        )
        conflict = Conflict.objects.get()
        assert (conflict.reviewer, conflict.declared_by) == (reviewer, editor)

    def test_a_conflict_needs_a_subject(self, reviewer):
        response = client_for(reviewer).post(
            reverse("admin:review_conflict_add"), {"reviewer": reviewer.pk, "kind": "other"}
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors() == [
            "Name the project, the submission or the organisation the conflict is with."
        ]
        assert not Conflict.objects.exists()

    def test_conflicts_are_not_edited_afterwards(self, reviewer, editor):
        conflict = Conflict.objects.create(reviewer=reviewer, kind="other", organization="Lingxi")
        response = client_for(editor).post(
            url("review_conflict_change", conflict),
            {"reviewer": reviewer.pk, "kind": "other", "organization": "X"},
        )
        assert response.status_code == 403
        conflict.refresh_from_db()
        assert conflict.organization == "Lingxi"


# --- Projects --------------------------------------------------------------------------------------


class TestProjectAdmin:
    def test_published_is_read_only_in_the_form(self, editor):
        project = make_project(name="灵犀客服")
        response = client_for(editor).get(url("registry_project_change", project))
        form = response.context["adminform"].form
        assert "published" not in form.fields and "published_at" not in form.fields

    def test_an_editor_unpublishes_and_republishes_with_a_reason(self, editor):
        project = make_project(name="灵犀客服")
        client = client_for(editor)
        response = client.post(url("registry_project_unpublish", project), {"reason": "Closed down."})
        assert messages_of(response) == [("success", "“灵犀客服” is off the map.")]
        project.refresh_from_db()
        assert not project.published
        response = client.post(url("registry_project_republish", project), {"reason": "Back again."})
        assert messages_of(response)[-1] == ("success", "“灵犀客服” is on the map again.")
        project.refresh_from_db()
        assert project.published
        assert list(project.events.values_list("action", "note")) == [
            ("unpublish", "Closed down."),
            ("republish", "Back again."),
        ]
        page = client.get(url("registry_project_change", project)).content.decode()
        assert 'class="event-row" data-action="unpublish"' in page
        assert "Closed down." in page

    def test_unpublishing_needs_a_reason(self, editor):
        project = make_project()
        response = client_for(editor).post(url("registry_project_unpublish", project), {"reason": ""})
        assert errors_of(response) == ["Give a reason: it is kept in the audit trail."]
        project.refresh_from_db()
        assert project.published

    def test_a_reviewer_cannot_unpublish(self, reviewer):
        project = make_project()
        response = client_for(reviewer).post(
            url("registry_project_unpublish", project), {"reason": "Because."}
        )
        assert errors_of(response) == ["Only an editor can publish or unpublish a project."]
        project.refresh_from_db()
        assert project.published and not project.events.exists()

    def test_republishing_a_published_project_is_refused(self, editor):
        project = make_project()
        response = client_for(editor).post(url("registry_project_republish", project), {"reason": "Again"})
        assert errors_of(response) == ["This project is already published."]

    def test_feature_and_unfeature_in_bulk(self, editor, reviewer):
        first, second = make_project(), make_project()
        changelist_url = reverse("admin:registry_project_changelist")
        selected = {"_selected_action": [first.pk, second.pk], "index": 0}
        client_for(editor).post(changelist_url, {"action": "feature", **selected})
        assert Project.objects.filter(featured=True).count() == 2
        client_for(editor).post(changelist_url, {"action": "unfeature", **selected})
        assert not Project.objects.filter(featured=True).exists()
        client_for(reviewer).post(changelist_url, {"action": "feature", **selected})
        assert not Project.objects.filter(featured=True).exists()

    def test_a_conflicted_editor_features_only_the_projects_they_have_no_tie_to(self, editor):
        free = make_project(name="Free")
        owned = make_project(name="Owned", owner=editor)
        declared = make_project(name="Declared")
        same_org = make_project(name="Same org", organization="  Deep  Lang ")
        Conflict.objects.create(reviewer=editor, kind="personal", project=declared)
        Conflict.objects.create(reviewer=editor, kind="employment", organization="deep lang")
        selected = {"_selected_action": [p.pk for p in (free, owned, declared, same_org)], "index": 0}

        response = client_for(editor).post(
            reverse("admin:registry_project_changelist"), {"action": "feature", **selected}, follow=True
        )

        assert list(Project.objects.filter(featured=True)) == [free]
        assert ("warning", "3 project(s) left as they were: you own them or declared a conflict of interest "
                "with them, so another editor must decide.") in messages_of(response)  # fmt: skip
        assert ("success", "1 project(s) featured.") in messages_of(response)

    def test_a_conflicted_editor_reads_the_project_page_but_cannot_save_or_delete(self, editor):
        project = make_project(name="Mine", owner=editor, tagline="Before")
        client = client_for(editor)

        page = client.get(url("registry_project_change", project))
        assert page.status_code == 200 and "adminform" in page.context
        assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
        assert any("another editor must change it" in text for _level, text in messages_of(page))

        saved = client.post(url("registry_project_change", project), {"name": "Mine", "tagline": "After"})
        deleted = client.post(url("registry_project_delete", project), {"post": "yes"})
        assert saved.status_code == 403 and deleted.status_code == 403
        project.refresh_from_db()
        assert project.tagline == "Before"

    def test_the_rule_for_changing_a_project_lives_in_review_roles(self, editor):
        from review.roles import conflicted_project_ids, may_change_project

        free, owned = make_project(name="Free", organization="Elsewhere"), make_project(owner=editor)
        tied = make_project(name="Tied", organization="ACME AI")
        Conflict.objects.create(reviewer=editor, kind="employment", organization="acme  ai")

        assert may_change_project(editor, free)
        assert not may_change_project(editor, owned) and not may_change_project(editor, tied)
        assert conflicted_project_ids(editor, Project.objects.all()) == {owned.pk, tied.pk}
        assert conflicted_project_ids(editor, Project.objects.filter(pk=free.pk)) == set()
