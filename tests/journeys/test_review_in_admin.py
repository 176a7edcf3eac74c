"""A reviewer finds a submission in the admin's queue and reviews it; an editor approves and
publishes it; it is on the map.

The browser speaks Chinese (the `page` fixture's locale), so elements are found by name,
id, href and data attributes, never by English text. Screenshots go to
tests/journeys/screenshots/review-*.png (git-ignored) for a person to look at.
"""

import importlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from registry.models import Project
from review.models import Review, Submission
from tests.base import make_submission, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "correct horse battery"  # tests.base.make_user's


def ensure_groups():
    """Recreate the migration's Reviewers and Editors after a transactional test flushed them
    (the permissions themselves come back after every flush)."""
    migration = importlib.import_module("review.migrations.0003_groups")
    for name, codenames in migration.GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (entry.split(".") for entry in codenames)
        )


def staff(username, group):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def click_and_wait(locator):
    with locator.page.expect_navigation():
        locator.click()


def log_in(page, username):
    page.goto("/admin/")
    page.locator("#login-form input[name=username]").fill(username)
    page.locator("#login-form input[name=password]").fill(PASSWORD)
    click_and_wait(page.locator("#login-form [type=submit]"))
    assert page.locator("#user-tools").count() == 1


def log_out(page):
    click_and_wait(page.locator("#logout-form button[type=submit]"))


def success_shown(page):
    return (
        page.locator("ul.messagelist li.success").count() == 1
        and not page.locator("ul.messagelist li.error").count()
    )


def test_a_reviewer_approves_a_submission_and_an_editor_publishes_it(page):
    ensure_groups()
    founder = make_user("founder")
    staff("reviewer", "Reviewers")
    staff("editor", "Editors")
    make_submission(founder, state=Submission.State.IN_REVIEW, name="别人的项目")  # not awaiting me
    submission = make_submission(
        founder,
        state=Submission.State.SUBMITTED,
        name="灵犀客服",
        name_en="Lingxi Support",
        tagline="面向电商卖家的智能客服机器人",
        website="https://lingxi.example/",
        organization="杭州灵犀科技",
        track_slug="customer-service",
    )
    problems = []  # CSP refusals and failed requests on the admin pages (there is no favicon)
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security" in message.text else None,
    )
    page.on(
        "response",
        lambda response: (
            problems.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )

    # The reviewer logs in and finds it with "awaiting my review".
    log_in(page, "reviewer")
    page.goto("/admin/review/submission/")
    assert page.locator("#result_list tbody tr").count() == 2
    click_and_wait(page.locator("#changelist-filter a[href='?awaiting=me']"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "灵犀客服" in rows.inner_text()
    screenshot(page, "review-1-queue")
    click_and_wait(rows.get_by_role("link", name="灵犀客服"))
    assert f"/admin/review/submission/{submission.pk}/change/" in page.url
    assert (
        page.locator(".listing-row[data-field=tagline] td.proposed").inner_text()
        == "面向电商卖家的智能客服机器人"
    )

    # Starts the review: it is theirs now.
    click_and_wait(page.locator("form.transition-form[data-action=start_review] button[type=submit]"))
    assert success_shown(page)
    screenshot(page, "review-2-started")

    # Scores it and recommends approval.
    form = page.locator("form.review-form")
    for name, score in (("authenticity", 5), ("innovation", 4), ("completeness", 4)):
        form.locator(f"input[name={name}][value='{score}']").check()
    form.locator("input[name=recommendation][value=approve]").check()
    form.locator("textarea[name=comment]").fill("信息完整，网站可以访问。")
    form.locator("textarea[name=internal_note]").fill("与创始人电话核实过。")
    click_and_wait(form.locator("button[type=submit]"))
    assert success_shown(page)
    assert page.locator("tr.review-row[data-reviewer=reviewer]").count() == 1

    # Took it on themself: their own approval alone cannot approve it (decision 0019), so
    # no approve button for them; an editor decides.
    assert page.locator("form.transition-form[data-action=approve]").count() == 0
    log_out(page)

    # The editor approves it, then publishes it.
    log_in(page, "editor")
    page.goto(f"/admin/review/submission/{submission.pk}/change/")
    click_and_wait(page.locator("form.transition-form[data-action=approve] button[type=submit]"))
    assert success_shown(page)
    assert page.locator(".review-summary .state-badge.state-approved").count() == 1
    screenshot(page, "review-3-approved")
    assert page.locator("form.transition-form").count() == 1
    click_and_wait(page.locator("form.transition-form[data-action=publish] button[type=submit]"))
    assert success_shown(page)
    assert page.locator(".review-summary .state-badge.state-published").count() == 1
    assert page.locator("tr.event-row[data-action=publish]").count() == 1
    screenshot(page, "review-4-published")
    assert problems == []

    # On the map: the list and its own page.
    project = Project.objects.get()
    page.goto("/projects/")
    assert page.get_by_role("link", name="灵犀客服").count() >= 1
    click_and_wait(page.get_by_role("link", name="灵犀客服").first)
    assert page.url.endswith(project.get_absolute_url())
    assert page.locator("h1").first.inner_text().startswith("灵犀客服")
    screenshot(page, "review-5-on-the-map")

    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    review = Review.objects.get()
    assert (review.authenticity, review.recommendation) == (5, "approve")
    assert list(submission.events.values_list("action", flat=True).order_by("pk")) == [
        "start_review",
        "review",
        "approve",
        "publish",
    ]
