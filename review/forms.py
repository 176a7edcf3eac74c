"""The founder's submission form: the listing fields, in sections, for drafts and for submitting."""

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Fieldset, Layout
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _

from registry.forms import ListingFormMixin, ListingRefField
from registry.images import delete_logo, inspect_logo, process_logo, store_logo
from registry.listing import FOUNDER_REQUIRED, Listing
from registry.models import Project
from review.models import Concern, Submission
from review.workflow import check_logo_fits

# The form's sections, in order. Names only: every field's definition is the listing's.
SECTIONS = [
    (_("Basics"), ["name", "name_en", "tagline", "track", "secondary_tracks", "logo"]),
    (_("What it does"), ["description", "modalities"]),
    (_("Company"), ["organization", "website", "founded_year", "hq_city", "hq_country", "team_size"]),
    (_("Business"), ["stage", "funding_stage", "business_models", "target_market", "customer_types"]),
    (_("AI stack"), ["foundation_models", "models_used"]),
    (_("What you are looking for"), ["seeking", "contact_email", "show_contact_email"]),
    (
        _("What became of it"),
        ["status", "status_since", "status_evidence", "acquired_by", "acquirer", "successor"],
    ),
]
CONTENT_FIELDS = [name for _title, names in SECTIONS for name in names]
MULTI_CHOICE = [
    "secondary_tracks",
    "modalities",
    "business_models",
    "customer_types",
    "foundation_models",
    "seeking",
]
DESCRIPTION_MAX = 5000

HELP_TEXTS = {
    "name_en": _("If the project has one, e.g. DeepLang."),
    "tagline": _("e.g. 面向电商卖家的智能客服机器人 / A customer-service bot for online sellers."),
    "website": _("e.g. https://example.com/"),
    "hq_city": _("e.g. 杭州 or Singapore."),
    "organization": _("The company or team behind the project."),
    "show_contact_email": _("Off by default: the address is only for the association."),
}


class SubmissionForm(ListingFormMixin, forms.ModelForm):
    """`draft=True` accepts partial content (every field optional, formats still checked);
    otherwise everything the listing requires must be there."""

    logo = forms.FileField(
        label=_("logo"),
        required=False,
        help_text=Listing._meta.get_field("logo").help_text,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    acquirer = ListingRefField(label=Listing._meta.get_field("acquirer").verbose_name, required=False)
    successor = ListingRefField(label=Listing._meta.get_field("successor").verbose_name, required=False)

    class Meta:
        model = Submission
        fields = CONTENT_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8, "maxlength": DESCRIPTION_MAX}),
            "secondary_tracks": forms.CheckboxSelectMultiple,
            "status_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, draft=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = draft
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True
        for name, field in self.fields.items():
            if name in HELP_TEXTS:
                field.help_text = HELP_TEXTS[name]
            if draft:
                field.required = name == "version" and field.required
        if not draft:
            self.fields["track"].required = True
            for name in FOUNDER_REQUIRED:  # optional on editors' listings, never on a founder's
                self.fields[name].required = True
        if (
            self.instance.kind == Submission.Kind.NEW
            and not self.instance.pk
            and not self.initial.get("hq_country")
        ):
            # Preselected on a new project (most founders are in China), never on a copy of a
            # listing whose country is unknown.
            self.initial["hq_country"] = "CN"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "version",
            *(
                Fieldset(title, *(InlineCheckboxes(n) if n in MULTI_CHOICE else Field(n) for n in names))
                for title, names in SECTIONS
            ),
        )

    @property
    def complete(self):
        return not self.draft

    @property
    def listing_pk(self):
        return self.instance.project_id

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if isinstance(upload, UploadedFile):
            inspect_logo(upload)  # raises a ValidationError that names the problem
        return upload

    @property
    def logo_needs_choosing_again(self):
        """A good logo on a form that failed elsewhere: browsers cannot resend files."""
        return self.is_bound and "logo" in self.files and "logo" not in self.errors and bool(self.errors)

    @property
    def expected_version(self):
        return self.cleaned_data.get("version")

    def add_transition_error(self, error):
        """Show a refused transition on the form: a message on top, field errors where they belong."""
        self.add_error(None, error.message)
        for name, message in error.errors.items():
            if name in self.fields:
                self.add_error(name, message)

    def write_to(self, submission, *, save):
        """Put this form's content onto `submission` and store it (called by review.workflow)."""
        simple = [n for n in CONTENT_FIELDS if n not in ("logo", "secondary_tracks")]
        construct_instance(self, submission, fields=simple)
        upload = self.cleaned_data.get("logo")
        replaced = submission.logo.name if submission.pk else ""
        if upload is False:  # "clear" ticked
            submission.logo, submission.logo_bytes = "", 0
        elif isinstance(upload, UploadedFile):
            logo, thumbnail = process_logo(upload)
            size = logo.size + thumbnail.size
            check_logo_fits(submission, size)  # before anything is stored
            submission.logo, submission.logo_bytes = store_logo(logo, thumbnail), size
        save(submission)
        if replaced and replaced != submission.logo.name:
            # Every save with a new logo used to leave the old files for good (drafts could
            # fill the disk): once the save has committed, the replaced logo goes, unless a
            # listing or another submission still shows it.
            transaction.on_commit(lambda: forget_logo(replaced))
        submission.secondary_tracks.set(self.cleaned_data.get("secondary_tracks") or [])


def forget_logo(name):
    """Delete the logo `name` and its thumbnail if nothing shows it any more."""
    if Project.objects.filter(logo=name).exists() or Submission.objects.filter(logo=name).exists():
        return
    delete_logo(name)


class ClaimForm(forms.Form):
    claim_evidence = forms.CharField(
        label=_("Evidence"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
        help_text=Submission._meta.get_field("claim_evidence").help_text,
    )


class ClaimEvidenceForm(ClaimForm):
    """A claim sent back for changes: the claimant edits the evidence, nothing else (the
    listing's content is not theirs to change until the claim is decided)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, instance, **kwargs):
        kwargs.setdefault("initial", {"claim_evidence": instance.claim_evidence, "version": instance.version})
        super().__init__(*args, **kwargs)

    @property
    def expected_version(self):
        return self.cleaned_data.get("version")

    def add_transition_error(self, error):
        self.add_error(None, error.message)

    def write_to(self, submission, *, save):
        submission.claim_evidence = self.cleaned_data["claim_evidence"].strip()
        save(submission)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you withdraw it?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )


class ProblemReportForm(forms.Form):
    """A visitor's report on a listing (review.lifecycle.report_problem)."""

    kind = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=[(kind.value, kind.label) for kind in Concern.REPORT_KINDS],
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        help_text=_("A link to an announcement or news helps the editors most."),
    )
    email = forms.EmailField(
        label=_("Your email (optional)"),
        required=False,
        help_text=_("Only if the editors may ask you about it; never shown."),
    )
    # A honeypot: hidden from people by the page's style sheet, filled in by naive bots.
    homepage = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
