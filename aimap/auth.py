"""Glue between django-axes, allauth and our two login forms (allauth's and the admin's)."""

from types import SimpleNamespace
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from allauth.core import context as allauth_context
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from registry.absolute import absolute, site_domain
from registry.clientip import client_ip
from review import mailqueue


class AccountAdapter(DefaultAccountAdapter):
    """allauth as we configure it: the client's address from registry.clientip (its rate
    limits and sessions count the same address as axes and the security log); its emails
    (confirmations, password resets) sent by the task worker like every other, their links
    and the site they name from SITE_URL (registry.absolute), never from the Host header."""

    def send_mail(self, template_prefix, email, context):
        site = SimpleNamespace(name=site_domain(), domain=site_domain())
        ctx = {"request": allauth_context.request, "email": email, "current_site": site, **context}
        # allauth sends after its own writes are saved (no ATOMIC_REQUESTS here): enqueue now.
        mailqueue.send_later(self.render_mail(template_prefix, email, ctx))

    def get_email_confirmation_url(self, request, emailconfirmation):
        return absolute(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key):
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute(path.replace("UID-KEY", quote(key)))

    def send_account_already_exists_mail(self, email):
        context = {
            "signup_url": absolute(reverse("account_signup")),
            "password_reset_url": absolute(reverse("account_reset_password")),
        }
        self.send_mail("account/email/account_already_exists", email, context)

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


def lockout_parameters(request, credentials):
    """What django-axes counts failures against (AXES_LOCKOUT_PARAMETERS): the (login, client
    address) pair for everyone; for a staff account also the account alone, whatever the
    address, so guesses spread over many addresses still lock it (a founder's account is
    not locked that way: anyone could then lock any founder out)."""
    login = login_identifier(request, credentials)
    staff = bool(login) and (
        get_user_model()
        .objects.filter(Q(username__iexact=login) | Q(email__iexact=login), is_staff=True)
        .exists()
    )
    return [["username", "ip_address"], "username"] if staff else [["username", "ip_address"]]


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login: a right password of an account that is not staff is a failed log-in
    (axes counts it), not a silent refusal that would tell a guesser the password was right."""

    def confirm_login_allowed(self, user):
        if not user.is_active or not user.is_staff:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username", "")},
                request=self.request,
            )
        super().confirm_login_allowed(user)


class AdminLoginView(LoginView):
    """The admin's login form, whose right password does not log in by itself: the account
    goes on through allauth's login flow, like a log-in on the site's own form, so an account
    with two-factor authentication gives its code next (allauth.mfa's stage) before it is
    logged in. The admin never asked for a verified email address, and does not now."""

    authentication_form = AdminLoginForm
    template_name = "admin/login.html"

    def form_valid(self, form):
        login = Login(
            user=form.get_user(),
            email_verification=EmailVerificationMethod.NONE,
            redirect_url=self.get_success_url(),
        )
        # allauth's own password log-in, which records the password step with what was typed
        # (aimap.twofactor counts wrong codes against it, as axes counts wrong passwords).
        return perform_password_login(self.request, {"username": form.cleaned_data["username"]}, login)


def admin_login(request, extra_context=None):
    """admin.site.login (set in aimap/urls.py): Django's AdminSite.login with AdminLoginView."""
    site = admin.site
    redirect_url = LoginView().get_redirect_url(request) or reverse("admin:index", current_app=site.name)
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(redirect_url)  # already logged in
    context = {
        **site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        REDIRECT_FIELD_NAME: redirect_url,
        **(extra_context or {}),
    }
    request.current_app = site.name
    return AdminLoginView.as_view(extra_context=context)(request)
