"""Two-factor authentication (allauth.mfa, TOTP) for staff, and its codes counted by axes.

Whoever has activated an authenticator app gives one of its codes after the password, on
the site's login and the admin's (aimap.auth.AdminLoginView): allauth's login stage. With
STAFF_REQUIRE_MFA on (production's default), a staff account (reviewer, editor, superuser)
that has not activated one reaches no admin page: it is sent to set one up first. Founders
may activate one, and are never asked to (decision 0023).
"""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


def must_activate_first(request):
    """Whether this request is a staff member's, for an admin page (but logging out), while
    two-factor authentication is required of staff and they have not activated it."""
    user = request.user
    return (
        settings.STAFF_REQUIRE_MFA
        and user.is_authenticated
        and user.is_staff
        and request.path_info.startswith(f"/{settings.ADMIN_URL}")
        and request.path_info != reverse("admin:logout")
        and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
    )


class StaffTwoFactorMiddleware:
    """Staff without an authenticator app, while STAFF_REQUIRE_MFA is on: every admin page
    sends them to allauth's page that activates one, with a message that says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if must_activate_first(request):
            messages.warning(
                request,
                _(
                    "Staff accounts need two-factor authentication: set up an authenticator "
                    "app, then open the review again."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def typed_login(request, user):
    """What the person typed at this log-in's password step (the admin's username or the
    site's email), which axes counts their failed passwords against; the username if unknown."""
    for record in reversed(get_authentication_records(request, user)):
        if record.get("method") == "password":
            return record.get("email") or record.get("username") or user.get_username()
    return user.get_username()


class AuthenticateForm(mfa_forms.AuthenticateForm):
    """allauth's code form at log-in (MFA_FORMS), counted by django-axes like a password: a
    wrong code is a failed log-in for what was typed at the password step, so a staff account
    locks after AXES_FAILURE_LIMIT wrong passwords or codes whatever the addresses
    (aimap.auth.lockout_parameters), and a locked one takes no more codes (axes' lockout page).
    allauth's own limit on codes (ACCOUNT_RATE_LIMITS' login_failed) stays on as well."""

    def clean_code(self):
        request = allauth_context.request
        credentials = {"username": typed_login(request, self.user)}
        if not AxesProxyHandler.is_allowed(request, credentials):
            request.axes_locked_out = True  # axes' middleware answers with its lockout page
            request.axes_credentials = credentials
            raise get_account_adapter().validation_error("too_many_login_attempts")
        try:
            return super().clean_code()
        except ValidationError:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            raise
