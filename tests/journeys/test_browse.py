"""A visitor opens the list, a project, and switches the language."""

import pytest

from tests.base import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_browses_and_switches_language(page):
    make_project(name="灵犀客服", name_en="Lingxi Support", track_slug="customer-service")
    make_project(name="草稿项目", published=False)

    page.goto("/projects/")
    assert page.locator("h1").inner_text() == "项目"
    assert page.get_by_text("灵犀客服").is_visible()
    assert page.get_by_text("草稿项目").count() == 0

    page.get_by_role("link", name="灵犀客服").click()
    page.wait_for_url("**/projects/lingxi-support/")
    assert "智能客服" in page.locator("article.project header").inner_text()

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.url.endswith("/projects/lingxi-support/")
    assert "Customer service" in page.locator("article.project header").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"

    page.goto("/projects/")
    assert page.locator("h1").inner_text() == "Projects"


def test_the_pages_load_without_csp_violations(page):
    make_project(name="Lark")
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto("/projects/")
    page.get_by_role("link", name="Lark").click()
    page.wait_for_load_state()
    assert problems == []
    # The track colours come from a nonce'd <style>: computed, not blocked.
    colour = page.locator("article.project").evaluate(
        "e => getComputedStyle(e).getPropertyValue('--track-color')"
    )
    assert colour.strip() == "#7c3aed"
