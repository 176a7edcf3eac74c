"""Trust you can see, as its users meet it in a browser (Chinese, as the `page` fixture speaks):
an anonymous visitor claims an imported listing through sign-up; an editor imports the real
472-row list and the preview shows "—" for every row's country; a visitor ticks "reviewed
only" and the imported listings leave the list, the map and the statistics. Desktop and
phone sizes; screenshots in tests/journeys/screenshots/ (git-ignored)."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from registry.models import Project
from review.importing import Origin, apply_import
from review.models import Submission
from tests.base import make_project
from tests.journeys.test_review_in_admin import PASSWORD, ensure_groups, staff
from tests.review.import_files import csv_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"
LONG_LIST = Path(__file__).resolve().parents[1] / "data" / "lfai-landscape-longlist.csv"
PHONE = {"width": 390, "height": 844}
EMAIL = "maintainer@pyg.example"
NEW_PASSWORD = "Graph-neural-orbit-42"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"trust-{name}.png"), full_page=True)


def submit(page, form):
    with page.expect_navigation():
        form.locator("[type=submit]").first.click()


def test_an_anonymous_visitor_signs_up_and_claims_an_imported_listing(page):
    apply_import(
        csv_file(
            [("PyTorch Geometric", "infrastructure", "https://pyg.org")], header=("name", "track", "website")
        ),
        origin=Origin("LF AI & Data Landscape", "https://landscape.lfaidata.foundation", "CC-BY-4.0"),
    )
    project = Project.objects.get()
    claim_url = f"/projects/{project.slug}/claim/"

    page.set_viewport_size(PHONE)
    page.goto(project.get_absolute_url())
    expect(page.locator(".provenance-note")).to_contain_text("LF AI & Data Landscape")
    expect(page.locator(".source-credit")).to_contain_text("CC-BY-4.0")
    shoot(page, "claim-1-listing-phone")
    with page.expect_navigation():
        page.locator(f"a[href='{claim_url}']").click()
    assert "/accounts/login/" in page.url and "next=" in page.url

    # No account yet: the login page's sign-up link keeps where the visitor was going.
    with page.expect_navigation():
        page.locator("main a[href*='/accounts/signup/']").first.click()
    mail.outbox.clear()
    form = page.locator("main form")
    form.locator("input[name=email]").fill(EMAIL)
    form.locator("input[name=password1]").fill(NEW_PASSWORD)
    form.locator("input[name=password2]").fill(NEW_PASSWORD)
    submit(page, form)
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    submit(page, page.locator("main form"))
    page.wait_for_url(f"**{claim_url}")  # back where the visitor was going, logged in

    form = page.locator("main form")
    form.locator("textarea[name=claim_evidence]").fill("我是 PyG 的维护者，可用 pyg.org 域名邮箱验证。")
    shoot(page, "claim-2-form-phone")
    submit(page, form)
    claim = Submission.objects.get(kind=Submission.Kind.CLAIM)
    assert claim.owner.email == EMAIL and claim.state == Submission.State.SUBMITTED

    page.goto(project.get_absolute_url())
    expect(page.locator("p.claim-note.alert")).to_be_visible()
    assert page.locator(f"a[href='{claim_url}']").count() == 0
    shoot(page, "claim-3-under-review-phone")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_an_editor_imports_the_real_list_and_the_preview_shows_no_invented_country(page, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    ensure_groups()
    editor = staff("editor", "Editors")
    page.goto("/admin/login/")
    page.locator("input[name=username]").fill(editor.username)
    page.locator("input[name=password]").fill(PASSWORD)
    submit(page, page.locator("#login-form"))

    page.goto("/admin/review/listimport/add/")
    form = page.locator("#content-main form")
    form.locator("input[name=file]").set_input_files(str(LONG_LIST))
    form.locator("input[name=source_name]").fill("LF AI & Data Landscape")
    form.locator("input[name=source_licence]").fill("CC-BY-4.0")
    submit(page, form)

    countries = page.locator("td.shown-country")
    assert countries.count() > 450  # every row to be written (and those to look at) shows it
    assert set(countries.all_inner_texts()) == {"—"}
    expect(page.locator("table.import-per-country")).to_contain_text("—")
    shoot(page, f"import-preview-{'phone' if viewport else 'desktop'}")

    page.locator("input[name=publish][value=later]").check()
    submit(page, page.locator("form[action$='/confirm/']"))
    imported = Project.objects.filter(listed_by="editors")
    assert imported.count() > 450 and not imported.filter(published=True).exists()
    assert set(imported.values_list("hq_country", flat=True)) == {""}
    assert set(imported.values_list("source_name", flat=True)) == {"LF AI & Data Landscape"}


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_a_visitor_ticks_reviewed_only_and_the_imported_listings_leave(page, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    for n in range(3):
        make_project(name=f"审核过的项目{n}", verified=True, track_slug="agents", hq_country="CN")
    for n in range(4):
        make_project(name=f"Imported {n}", listed_by="editors", track_slug="coding", hq_country="")

    page.goto("/projects/")
    expect(page.locator("#result-count")).to_contain_text("7 个项目")
    switch = page.locator("input[name=reviewed][role=switch]")
    expect(switch).to_be_visible()  # in view, not folded in a group
    switch.check()
    expect(page.locator("#result-count")).to_contain_text("3 个项目")
    page.wait_for_url("**reviewed=1**")
    names = page.locator("#results .card-title a").all_inner_texts()
    assert len(names) == 3 and not any(name.startswith("Imported") for name in names)
    shoot(page, f"reviewed-list-{'phone' if viewport else 'desktop'}")

    page.goto("/map/?reviewed=1")
    expect(page.locator("#result-count")).to_contain_text("3 个项目")
    assert page.locator("a.tile.is-reviewed").count() == 3
    assert page.locator("a.tile:not(.is-reviewed)").count() == 0

    page.goto("/stats/?reviewed=1")
    assert "Imported" not in page.locator("main").inner_text()
    headline = page.locator(".headline-number").first.inner_text()
    assert headline.strip() == "3"
    shoot(page, f"reviewed-stats-{'phone' if viewport else 'desktop'}")
