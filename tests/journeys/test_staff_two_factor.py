"""A new reviewer, with two-factor authentication required of staff (STAFF_REQUIRE_MFA, as in
production), logs in to the admin: is sent to set up an authenticator app, scans (reads) its
secret, confirms with a code, and opens the review; logs out, and logs in again with the
password and a code the "app" (this test, RFC 6238) computes.

Screenshots: tests/journeys/screenshots/two-factor-*.png (git-ignored).
"""

import pytest
from allauth.mfa.models import Authenticator

from tests.base import totp_code, wrong_code
from tests.journeys.test_review_in_admin import PASSWORD, click_and_wait, ensure_groups, screenshot, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBMIT = "form.auth-form button[type=submit]:not([form])"  # not the header's log-out button


def password_step(page):
    page.goto("/admin/")
    page.locator("#login-form input[name=username]").fill("reviewer")
    page.locator("#login-form input[name=password]").fill(PASSWORD)
    click_and_wait(page.locator("#login-form [type=submit]"))


def test_a_new_reviewer_sets_up_two_factor_and_logs_in_with_a_code(page, settings):
    settings.STAFF_REQUIRE_MFA = True
    ensure_groups()
    reviewer = staff("reviewer", "Reviewers")

    password_step(page)
    # No admin page before an authenticator app: allauth asks for the password once more
    # (before two-factor settings change), then shows the QR code and the secret.
    assert "/accounts/reauthenticate/" in page.url
    assert page.locator(".alert-warning").count() == 1  # why they are here
    page.locator("form.auth-form input[name=password]").fill(PASSWORD)
    click_and_wait(page.locator(SUBMIT))
    assert page.url.endswith("/accounts/2fa/totp/activate/")
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1
    screenshot(page, "two-factor-activate")
    secret = page.locator("#authenticator_secret").input_value()

    page.locator("form.auth-form input[name=code]").fill(wrong_code(totp_code(secret)))
    click_and_wait(page.locator(SUBMIT))
    assert page.locator(".invalid-feedback").count() == 1
    page.locator("form.auth-form input[name=code]").fill(totp_code(secret))
    click_and_wait(page.locator(SUBMIT))
    assert Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).exists()
    assert "/accounts/2fa/recovery-codes/" in page.url  # shown once set up, to keep
    assert page.locator("textarea#recovery_codes").input_value().strip()
    screenshot(page, "two-factor-recovery-codes")

    page.goto("/admin/")
    assert page.locator("#user-tools").count() == 1
    assert page.locator("#two-factor-link").count() == 1
    click_and_wait(page.locator("#logout-form button[type=submit]"))

    # The next log-in: the password, then a code.
    password_step(page)
    assert page.url.endswith("/accounts/2fa/authenticate/")
    assert page.locator("#user-tools").count() == 0
    screenshot(page, "two-factor-authenticate")
    page.locator("form.auth-form input[name=code]").fill(totp_code(secret))
    click_and_wait(page.locator(SUBMIT))
    assert page.url.endswith("/admin/")
    assert page.locator("#user-tools").count() == 1
    assert page.locator("a[href$='/admin/review/submission/']").count() >= 1
