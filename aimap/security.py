"""Security events in the structured log ("aimap.security"): refused logins, lock-outs.
CSRF failures and denied pages are logged by aimap.views."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from aimap.logs import security
from registry.clientip import client_ip


@receiver(user_login_failed, dispatch_uid="aimap-login-failed")
def login_failed(sender, credentials=None, request=None, **kwargs):
    # The login tried, never the password (Django already masks sensitive credentials).
    login = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    security.warning(
        "login failed", extra={"event": "login_failed", "login": login, "ip": client_ip(request)}
    )


@receiver(user_locked_out, dispatch_uid="aimap-locked-out")
def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    security.warning(
        "locked out after repeated failed logins",
        extra={"event": "locked_out", "login": username or "", "ip": ip_address or client_ip(request)},
    )
