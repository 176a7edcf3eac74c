"""The sign-up form: allauth's, plus a honeypot field that people never see (moved off
screen by CSS, out of the tab order) and that form-filling scripts fill in; and the same
work, so the same time, whether the email has an account already or not."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext_lazy as _

from aimap.logs import security
from registry.clientip import client_ip

HONEYPOT = "homepage"


class SignupForm(AllauthSignupForm):
    # Hidden by static/css/site.css (#div_id_homepage: crispy's wrapper); its label tells
    # anyone whose screen reader reaches it to leave it empty.
    homepage = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_homepage(self):
        value = self.cleaned_data.get(HONEYPOT, "")
        if value:
            ip = client_ip(getattr(self, "request", None))
            security.warning("sign-up honeypot filled", extra={"event": "honeypot", "ip": ip})
            raise forms.ValidationError(_("Leave this field empty."), code="honeypot")
        return value

    def try_save(self, request):
        """An email with an account already gets no new account (allauth mails its owner
        instead), which skipped the password hashing a new account costs: 60-80 ms against
        1.2 s told a script which emails have accounts. The hash is computed either way."""
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "not given")
        return super().try_save(request)
