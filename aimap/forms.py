"""The sign-up form: allauth's, plus a honeypot field that people never see (moved off
screen by CSS, out of the tab order) and that form-filling scripts fill in."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
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
