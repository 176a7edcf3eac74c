"""The small POST forms on a submission's admin page. They check shape only: every
rule (who may do what, when) is review.workflow's, which these forms feed."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from review.models import Conflict, Review
from review.roles import EDITORS, REVIEWERS
from review.workflow import TRANSITIONS

# The transitions the association takes in the admin, and what their text box means.
TEXT_LABELS = {
    "request_changes": _("Comment to the founder"),
    "approve": _("Note to the founder (optional)"),
    "reject": _("Reason, for the founder"),
}
SUBJECT_MISSING = _("Name the project, the submission or the organisation the conflict is with.")
STAFF_ACTIONS = ("start_review", "request_changes", "approve", "reject", "publish")


def _label(model, name):
    """The model field's own name, so the form says what the model says."""
    return capfirst(model._meta.get_field(name).verbose_name)


def _staff_in(*groups):
    users = get_user_model().objects.filter(is_active=True, is_staff=True, groups__name__in=groups)
    return users.distinct().order_by("username")


def staff_members():
    """Reviewers and editors: the people a conflict of interest can be declared for."""
    return _staff_in(REVIEWERS, EDITORS)


def reviewers():
    """Active staff in the Reviewers group (the workflow judges conflicts)."""
    return _staff_in(REVIEWERS)


class VersionForm(forms.Form):
    """The version the page showed: the workflow refuses the action if it changed since."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TransitionForm(VersionForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to publish now. Only new projects can be scheduled."),
    )

    def __init__(self, *args, action, submission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action in TEXT_LABELS:
            self.fields["text"].label = TEXT_LABELS[action]
            self.fields["text"].widget.attrs["required"] = TRANSITIONS[action].needs_reason
        else:
            del self.fields["text"]
        if action != "publish" or (submission is not None and submission.kind != submission.Kind.NEW):
            del self.fields["publish_at"]
        elif submission is not None:
            self.fields["publish_at"].initial = submission.publish_at


def _score(name):
    return forms.TypedChoiceField(
        label=_label(Review, name), choices=Review.SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )


def _text(model, name, rows=3):
    return forms.CharField(
        label=_label(model, name),
        help_text=model._meta.get_field(name).help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        required=False,
        max_length=5000,
    )


class ReviewForm(VersionForm):
    authenticity = _score("authenticity")
    innovation = _score("innovation")
    completeness = _score("completeness")
    recommendation = forms.ChoiceField(
        label=_label(Review, "recommendation"),
        choices=Review.Recommendation.choices,
        widget=forms.RadioSelect,
    )
    comment = _text(Review, "comment")
    internal_note = _text(Review, "internal_note")

    REVIEW_FIELDS = (
        "authenticity",
        "innovation",
        "completeness",
        "recommendation",
        "comment",
        "internal_note",
    )


class AssignForm(VersionForm):
    reviewer = forms.ModelChoiceField(
        label=_label(Review, "reviewer"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, choices=None, **kwargs):
        """`choices`: the reviewers to offer; a POST is bound to every reviewer so that the
        workflow, not the form, explains why one of them cannot be assigned."""
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = choices if choices is not None else reviewers()


class ConflictDeclarationForm(forms.Form):
    """A conflict with this submission, its project or its organisation."""

    SUBJECTS = [
        ("submission", _("this submission")),
        ("project", _("the project on the map")),
        ("organization", _("its organisation")),
    ]

    subject = forms.ChoiceField(label=_("Conflict with"), choices=SUBJECTS)
    kind = forms.ChoiceField(label=_label(Conflict, "kind"), choices=Conflict.Kind.choices)
    reviewer = forms.ModelChoiceField(
        label=_label(Conflict, "reviewer"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("Editors may declare a conflict for any reviewer; leave empty for yourself."),
    )
    note = _text(Conflict, "note", rows=2)

    def __init__(self, *args, submission, for_others, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("submission", self.SUBJECTS[0][1])]
        if submission.project_id:
            choices.append(self.SUBJECTS[1])
        if submission.organization.strip():
            choices.append(self.SUBJECTS[2])
        self.fields["subject"].choices = choices
        if for_others or self.is_bound:
            self.fields["reviewer"].queryset = staff_members()
        if not for_others and not self.is_bound:
            del self.fields["reviewer"]


class ConflictAdminForm(forms.ModelForm):
    class Meta:
        model = Conflict
        fields = ["reviewer", "kind", "project", "submission", "organization", "note"]

    def clean(self):
        data = self.cleaned_data
        if not (data.get("project") or data.get("submission") or (data.get("organization") or "").strip()):
            # Before the model's checks, which would only name the database constraint.
            raise forms.ValidationError(SUBJECT_MISSING)
        return super().clean()


class ReasonForm(forms.Form):
    """Unpublishing or republishing a project: the reason goes into the audit trail."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class ImportUploadForm(forms.Form):
    """The list and its logos. Sizes are checked before anything is read; what the rows
    mean is review.importing's business."""

    ENCODINGS = [
        ("auto", _("Detect (UTF-8, with or without BOM, or GB18030/GBK)")),
        ("utf-8", "UTF-8"),
        ("gb18030", "GB18030 / GBK / GB2312"),
        ("big5", "Big5"),
        ("utf-16", "UTF-16"),
    ]

    file = forms.FileField(
        label=_("List (CSV or XLSX)"),
        help_text=_("First row: column names from the schema, e.g. name, track, website, tagline."),
    )
    encoding = forms.ChoiceField(label=_("Encoding of a CSV file"), choices=ENCODINGS, initial="auto")
    logos = forms.FileField(
        label=_("Logos (ZIP, optional)"),
        required=False,
        help_text=_("Image files named in the list's “logo” column. Nothing is fetched from the internet."),
    )
    public_contact_emails = forms.BooleanField(
        label=_("The contact emails in this file are public"),
        required=False,
        help_text=_("Tick for an open-data export of the map; otherwise imported addresses are not shown."),
    )
    source_name = forms.CharField(
        label=_("Source"),
        max_length=200,
        required=False,
        help_text=_(
            "Who published the list, credited on every listing it brings, e.g. LF AI & Data Landscape."
        ),
    )
    source_url = forms.URLField(
        label=_("Source address"), max_length=300, required=False, assume_scheme="https"
    )
    source_licence = forms.CharField(
        label=_("Source licence"), max_length=100, required=False, help_text=_("e.g. CC-BY-4.0")
    )

    def _check_size(self, name, limit_mb):
        upload = self.cleaned_data.get(name)
        if upload and upload.size > limit_mb * 1024 * 1024:
            raise forms.ValidationError(
                _("This file is larger than %(size)s MB.") % {"size": limit_mb}, code="too_large"
            )
        return upload

    def clean_file(self):
        return self._check_size("file", settings.IMPORT_MAX_FILE_MB)

    def clean_logos(self):
        return self._check_size("logos", settings.IMPORT_MAX_LOGOS_MB)


class ImportConfirmForm(forms.Form):
    ALL_VALID, ALL_OR_NOTHING = "valid", "all"
    mode = forms.ChoiceField(
        label=_("Rows with errors"),
        widget=forms.RadioSelect,
        initial=ALL_VALID,
        choices=[
            (ALL_VALID, _("Import the valid rows; leave out the rows with errors")),
            (ALL_OR_NOTHING, _("All or nothing: import nothing if any row has an error")),
        ],
    )
    include = forms.TypedMultipleChoiceField(coerce=int, required=False)
    NOW, LATER = "now", "later"
    publish = forms.ChoiceField(
        label=_("New listings"),
        widget=forms.RadioSelect,
        initial=NOW,
        required=False,  # not given: now, as before this choice existed
        choices=[
            (NOW, _("Publish them now, as listed by the editors (shown as not yet reviewed)")),
            (
                LATER,
                _("Import them unpublished: publish them later from the projects list, or through review"),
            ),
        ],
    )

    def __init__(self, *args, flagged_lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["include"].choices = [(line, line) for line in flagged_lines]
