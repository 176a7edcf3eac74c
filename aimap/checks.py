"""System checks of the site's own settings (run by `manage.py check`, the deploy ones by
`check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def contact_email_is_set(app_configs, **kwargs):
    if settings.CONTACT_EMAIL:
        return []
    return [
        checks.Warning(
            "CONTACT_EMAIL is not set: emails to founders have no Reply-To, so their replies go to "
            "the no-reply sender (DEFAULT_FROM_EMAIL).",
            hint="Set CONTACT_EMAIL to the association's address, e.g. review@map.example.org.",
            id="aimap.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def staff_two_factor_is_required(app_configs, **kwargs):
    if settings.STAFF_REQUIRE_MFA:
        return []
    return [
        checks.Warning(
            "STAFF_REQUIRE_MFA is off: reviewers and editors can open the admin with a password "
            "alone (decision 0023).",
            hint="Unset STAFF_REQUIRE_MFA (on by default when DEBUG is off), or set it to 1.",
            id="aimap.W002",
        )
    ]
