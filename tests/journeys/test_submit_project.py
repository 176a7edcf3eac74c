"""A founder signs up, verifies the email, saves a draft with a logo, comes back and submits it.

The browser speaks Chinese (the `page` fixture's locale), so elements are found by
name, id and role, never by English text. Screenshots go to tests/journeys/screenshots/
(git-ignored) for a person to look at.
"""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from PIL import Image, ImageDraw

from registry.models import Track
from review.models import Submission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"
EMAIL = "founder@lingxi.example"
PASSWORD = "Tea-kettle-orbit-93"
LOGO_FILE_NAME = "lingxi-upload-logo.png"
DESCRIPTION = (
    "灵犀客服是一款面向电商卖家的智能客服机器人，能理解买家的问题并自动回复。\n\n"
    "它接入主流电商平台，支持售前咨询、订单查询和售后处理，高峰期也不用排队。"
)


@pytest.fixture(autouse=True)
def fresh_limits():
    """allauth's rate limits (one verification mail per address per 3 minutes, sign-ups
    per IP) count in the cache, which the live server shares with the tests and keeps."""
    cache.clear()
    yield
    cache.clear()


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def make_logo(folder):
    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 240, 240), fill=(124, 58, 237, 255))
    draw.rectangle((96, 72, 160, 184), fill=(255, 255, 255, 255))
    path = folder / LOGO_FILE_NAME
    image.save(path, "PNG")
    return path


def submit_form(page, selector="main form"):
    """Click the submit button of the form in the page's content, and wait for the next page."""
    with page.expect_navigation():
        page.locator(selector).locator("button[type=submit]").first.click()


def last_mail_link(path_prefix):
    """The path of the link under `path_prefix` in the newest mail (the live server shares mail.outbox)."""
    assert mail.outbox, "no mail was sent"
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def sign_up_and_confirm(page):
    mail.outbox.clear()
    page.goto("/accounts/signup/")
    form = page.locator("main form")
    form.locator("input[name=email]").fill(EMAIL)
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    submit_form(page)
    assert page.url.endswith("/accounts/confirm-email/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]

    page.goto(last_mail_link("/accounts/confirm-email/"))
    submit_form(page)
    page.wait_for_url("**/my/")


def log_out(page):
    with page.expect_navigation():
        page.locator("header form[action='/accounts/logout/'] button[type=submit]").click()
    assert page.locator("header form[action='/accounts/logout/']").count() == 0


def log_in(page):
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=login]").fill(EMAIL)
    form.locator("input[name=password]").fill(PASSWORD)
    submit_form(page)
    page.wait_for_url("**/my/")


def test_a_founder_signs_up_saves_a_draft_and_submits_it_later(page, tmp_path):
    track = Track.objects.get(slug="customer-service")
    logo = make_logo(tmp_path)

    # Sign up, confirm the email from the mail, land on the dashboard logged in.
    sign_up_and_confirm(page)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("header form[action='/accounts/logout/']").count() == 1
    assert page.locator("tr.submission-row").count() == 0

    # The form, filled in Chinese; "save" keeps it a draft.
    page.goto("/my/submissions/new/")
    form = page.locator("form.submission-form")
    form.locator("input[name=name]").fill("灵犀客服")
    form.locator("input[name=tagline]").fill("面向电商卖家的智能客服机器人")
    form.locator("textarea[name=description]").fill(DESCRIPTION)
    form.locator("select[name=track]").select_option(str(track.pk))
    form.locator("input[name=modalities][value=text]").check()
    form.locator("input[name=website]").fill("https://lingxi.example/")
    form.locator("input[name=hq_city]").fill("杭州")  # the country is preselected (CN)
    form.locator("input[name=logo]").set_input_files(str(logo))
    assert form.locator("input[name=tagline] + .char-counter").inner_text() == "14 / 140"
    screenshot(page, "submit-1-filled-form")
    with page.expect_navigation():
        form.locator("button[name=action][value=save]").click()

    submission = Submission.objects.get()
    assert page.url.endswith(f"/my/submissions/{submission.pk}/")
    assert page.locator("main .alert-success").count() == 1
    assert page.locator("main h1").inner_text() == "灵犀客服"
    assert page.locator("main .state-badge").inner_text() == "草稿"
    assert page.locator("main .description p").all_inner_texts() == DESCRIPTION.split("\n\n")
    assert page.locator("main img.project-logo").count() == 1
    assert page.locator("main .alert-warning").count() == 0  # nothing missing to submit
    screenshot(page, "submit-2-draft")
    assert submission.state == Submission.State.DRAFT
    assert submission.owner.email == EMAIL

    # Come back later: log out, log in, find the draft, edit it, submit.
    log_out(page)
    page.goto(f"/my/submissions/{submission.pk}/")
    assert "/accounts/login/" in page.url
    log_in(page)
    row = page.locator("tr.submission-row")
    assert row.count() == 1
    assert row.get_attribute("data-state") == "draft"
    with page.expect_navigation():
        row.get_by_role("link", name="灵犀客服").click()
    with page.expect_navigation():
        page.locator(f"main a[href='/my/submissions/{submission.pk}/edit/']").click()
    form = page.locator("form.submission-form")
    assert form.locator("input[name=name]").input_value() == "灵犀客服"
    assert form.locator("select[name=track]").input_value() == str(track.pk)
    assert form.locator("input[name=modalities][value=text]").is_checked()
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    assert page.locator("main .state-badge").inner_text() == "已提交"

    page.goto("/my/")
    row = page.locator("tr.submission-row")
    assert row.get_attribute("data-state") == "submitted"
    assert "灵犀客服" in row.inner_text()
    screenshot(page, "submit-3-dashboard")

    submission.refresh_from_db()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.submitted_at is not None
    assert submission.track == track
    assert submission.modalities == ["text"]
    assert submission.website == "https://lingxi.example/"
    assert submission.description.replace("\r\n", "\n") == DESCRIPTION
    # The logo was re-encoded under a name of our own, not the uploader's.
    assert submission.logo.name.startswith("logos/")
    assert Path(LOGO_FILE_NAME).stem not in submission.logo.name
    assert not submission.logo.name.endswith(".png")
    with submission.logo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "WEBP"
        assert image.size == (256, 256)
    assert list(submission.events.values_list("action", flat=True).order_by("pk")) == [
        "create",
        "edit",
        "submit",
    ]


def test_submitting_an_incomplete_form_shows_the_errors_and_keeps_the_name(page):
    sign_up_and_confirm(page)
    page.goto("/my/submissions/new/")
    form = page.locator("form.submission-form")
    form.locator("input[name=name]").fill("灵犀客服")
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()

    assert page.url.endswith("/my/submissions/new/")
    form = page.locator("form.submission-form")
    assert form.locator("input[name=name]").input_value() == "灵犀客服"
    assert page.locator("main .alert-danger").count() == 1
    for name in ("tagline", "description", "track"):
        assert "is-invalid" in form.locator(f"[name={name}]").get_attribute("class"), name
    assert "is-invalid" not in (form.locator("input[name=name]").get_attribute("class") or "")
    assert Submission.objects.count() == 0
