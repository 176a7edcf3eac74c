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
