from django.apps import AppConfig


class AimapConfig(AppConfig):
    """The site itself: security logging (aimap.security) is connected here."""

    name = "aimap"
    verbose_name = "AI Innovation Map"

    def ready(self):
        from aimap import checks, security  # noqa: F401 (the system checks; the security log's signals)
