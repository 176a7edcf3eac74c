"""A living map, as its users meet it in a browser (Chinese, as the `page` fixture speaks):
a founder confirms "still operating" through the yearly email's link; an editor resolves a
"maybe gone" listing as closed and it shows faded on the map with its date; a visitor
reports a problem. Desktop and phone sizes; screenshots in tests/journeys/screenshots/."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from registry.models import Project
from review import lifecycle
from review.models import Concern, Event, LinkCheck
from tests.base import make_project, make_user
from tests.journeys.test_review_in_admin import click_and_wait, ensure_groups, log_in, staff, success_shown

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"living-{name}.png"), full_page=True)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_founder_confirms_through_the_emailed_link(page, size):
    owner = make_user("still-here", email="founder@still.example")
    long_ago = timezone.now() - timedelta(days=400)
    project = make_project(owner=owner, name="仍在运营", slug="still-here", last_verified_at=long_ago,
                           first_published_at=long_ago)  # fmt: skip
    mail.outbox.clear()
    assert lifecycle.request_confirmations() == 1
    link = re.search(r"https?://[^/\s]+(/confirm/\S+/)", mail.outbox[-1].body).group(1)

    page.set_viewport_size(size)
    page.goto(link)
    expect(page.locator("main h1")).to_contain_text("确认你的条目")
    shoot(page, f"confirm-1-page-{'phone' if size is PHONE else 'desktop'}")
    project.refresh_from_db()
    assert project.last_verified_at == long_ago  # opening the link confirms nothing
    click_and_wait(page.locator("main form button[type=submit]"))
    expect(page.locator(".confirm-done")).to_contain_text("仍在运营")
    project.refresh_from_db()
    assert timezone.now() - project.last_verified_at < timedelta(minutes=5)
    assert Event.objects.filter(project=project, action="confirm", actor=owner).count() == 1

    page.goto(link)  # the link works once
    expect(page.locator(".confirm-refused")).to_be_visible()
    page.goto(project.get_absolute_url())
    expect(page.locator(".last-verified")).to_contain_text("信息核实于")
    shoot(page, f"confirm-2-project-{'phone' if size is PHONE else 'desktop'}")


def test_an_editor_resolves_a_maybe_gone_listing_as_closed_and_it_fades_on_the_map(page):
    ensure_groups()
    staff("editor", "Editors")
    project = make_project(
        name="渐隐科技", slug="fading-tech", track_slug="coding", website="https://fading.example/"
    )
    make_project(name="Alive", slug="alive", track_slug="coding")
    checked = timezone.now() - timedelta(days=1)
    LinkCheck.objects.create(project=project, url=project.website, checked_at=checked, ok=False,
                             error="cannot resolve host", failures=5, failing_since=checked - timedelta(days=9))  # fmt: skip
    lifecycle.raise_link_alert(project.pk, error="cannot resolve host")

    page.set_viewport_size(DESKTOP)
    log_in(page, "editor")
    page.goto("/admin/review/concern/")
    click_and_wait(page.locator("#result_list a", has_text="渐隐科技").first)
    expect(page.locator(".link-check")).to_contain_text("cannot resolve host")
    form = page.locator("form.end-state-form")
    form.locator("select[name=status]").select_option("closed")
    form.locator("input[name=since]").fill("2025-09-30")
    form.locator("input[name=evidence]").fill("https://news.example/fading-tech-closes")
    shoot(page, "queue-1-close-desktop")
    click_and_wait(form.locator("button[type=submit]"))
    assert success_shown(page)
    assert Concern.objects.get().state == "closed_listing"
    project.refresh_from_db()
    assert (project.status, str(project.status_since)) == ("closed", "2025-09-30")

    page.goto("/map/")
    tile = page.locator("a.tile[href='/projects/fading-tech/']")
    expect(tile).to_have_class(re.compile(r"\bis-gone\b"))
    expect(tile.locator(".tile-status")).to_contain_text("2025-09")
    opacity = float(tile.evaluate("element => getComputedStyle(element).opacity"))
    alive = float(
        page.locator("a.tile[href='/projects/alive/']").evaluate("e => getComputedStyle(e).opacity")
    )
    assert opacity < 0.6 and alive == 1.0
    shoot(page, "queue-2-map-desktop")
    page.goto(project.get_absolute_url())
    expect(page.locator(".lineage-end")).to_contain_text("2025")
    expect(page.locator(".status-badge")).to_contain_text("2025-09")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_visitor_reports_a_problem(page, size):
    project = make_project(name="问题项目", slug="troubled")
    page.set_viewport_size(size)
    page.goto(project.get_absolute_url())
    click_and_wait(page.locator(".report-link a"))
    expect(page.locator("main h1")).to_contain_text("问题项目")
    expect(page.locator("input[name=homepage]")).not_to_be_in_viewport()
    click_and_wait(page.locator("main form button[type=submit]"))  # nothing chosen
    expect(page.locator("main form .invalid-feedback, main form .is-invalid").first).to_be_visible()
    page.locator("input[name=kind][value=broken_link]").check()
    page.locator("textarea[name=message]").fill("官网打不开了")
    shoot(page, f"report-1-form-{'phone' if size is PHONE else 'desktop'}")
    click_and_wait(page.locator("main form button[type=submit]"))
    expect(page.locator(".report-done")).to_be_visible()
    concern = Concern.objects.get()
    assert (concern.project_id, concern.kind, concern.message) == (project.pk, "broken_link", "官网打不开了")
    assert Project.objects.get(pk=project.pk).status == "active"
