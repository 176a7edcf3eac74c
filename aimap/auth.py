"""Glue between django-axes, allauth and our two login forms (allauth's and the admin's)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied

from registry.clientip import client_ip
from review import mailqueue


class AccountAdapter(DefaultAccountAdapter):
    """allauth as we configure it: the client's address from registry.clientip (its rate
    limits and sessions count the same address as axes and the security log); its emails
    (confirmations, password resets) sent by the task worker like every other."""

    def send_mail(self, template_prefix, email, context):
        # allauth sends after its own writes are saved (no ATOMIC_REQUESTS here): enqueue now.
        mailqueue.send_later(self.render_mail(template_prefix, email, context))

    def get_client_ip(self, request):
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip


def login_identifier(request, credentials):
    """The identity axes counts failures against: the email typed on our login form
    (allauth passes it as `email`; on success axes passes only the user's username, so
    the posted `login` comes before it) or the username typed in the admin."""
    credentials = credentials or {}
    data = getattr(request, "POST", {}) if request is not None else {}
    value = (
        credentials.get("email")
        or data.get("login")
        or credentials.get("username")
        or data.get("username")
        or ""
    )
    return value.strip().lower()
