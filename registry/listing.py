"""The listing: every field of the open-data schema, defined once.

`Listing` is an abstract model. `registry.Project` (the published record) and
`review.Submission` (a founder's proposed version) both inherit it, so forms, the
admin, imports and exports all read the same definitions. The names are the
contract of PRODUCT.md ("Listing fields"): model fields, form fields, CSV columns
and JSON keys.
"""

import uuid
from pathlib import PurePath

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from registry.fields import LogoField, MultiChoiceField, YearField
from registry.images import thumbnail_name
from registry.validators import validate_founded_year, validate_http_url, validate_logo


class Stage(models.TextChoices):
    IDEA = "idea", _("Idea")
    PROTOTYPE = "prototype", _("Prototype")
    LAUNCHED = "launched", _("Launched")
    GROWTH = "growth", _("Growth")
    MATURE = "mature", _("Mature")


class FundingStage(models.TextChoices):
    BOOTSTRAPPED = "bootstrapped", _("Bootstrapped")
    ANGEL = "angel", _("Angel")
    SEED = "seed", _("Seed")
    PRE_A = "pre_a", _("Pre-A")
    SERIES_A = "series_a", _("Series A")
    SERIES_B = "series_b", _("Series B")
    SERIES_C_PLUS = "series_c_plus", _("Series C and later")
    PUBLIC = "public", _("Public company")
    UNDISCLOSED = "undisclosed", _("Undisclosed")


class TeamSize(models.TextChoices):
    S_1_10 = "1_10", _("1–10")
    S_11_50 = "11_50", _("11–50")
    S_51_200 = "51_200", _("51–200")
    S_201_1000 = "201_1000", _("201–1,000")
    S_1000_PLUS = "1000_plus", _("More than 1,000")


class BusinessModel(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Subscription")
    USAGE = "usage", _("Usage-based")
    LICENSE = "license", _("Licence")
    CUSTOM_DELIVERY = "custom_delivery", _("Custom delivery")
    ADVERTISING = "advertising", _("Advertising")
    TRANSACTION = "transaction", _("Transaction fees")
    OPEN_SOURCE = "open_source", _("Open source")
    UNDECIDED = "undecided", _("Not decided yet")


class TargetMarket(models.TextChoices):
    CHINA = "china", _("China")
    OVERSEAS = "overseas", _("Overseas")
    GLOBAL = "global", _("Global")


class CustomerType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprises")
    SMB = "smb", _("Small and medium businesses")
    CONSUMER = "consumer", _("Consumers")
    DEVELOPER = "developer", _("Developers")
    GOVERNMENT = "government", _("Government")


class FoundationModel(models.TextChoices):
    OPEN_SOURCE = "open_source", _("Open-source models")
    PROPRIETARY_API = "proprietary_api", _("Proprietary model APIs")
    SELF_DEVELOPED = "self_developed", _("Self-developed models")


class Modality(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    THREE_D = "3d", _("3D")
    CODE = "code", _("Code")


class Seeking(models.TextChoices):
    INVESTMENT = "investment", _("Investment")
    ACQUISITION = "acquisition", _("Acquisition")
    PARTNERS = "partners", _("Partners")
    CUSTOMERS = "customers", _("Customers")
    COMPUTE = "compute", _("Compute")
    TALENT = "talent", _("Talent")


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    PIVOTED = "pivoted", _("Pivoted")
    ACQUIRED = "acquired", _("Acquired")
    CLOSED = "closed", _("Closed")


# A status other than active is an end state: it took effect on a date, for a reason shown.
ENDED = (Status.PIVOTED, Status.ACQUIRED, Status.CLOSED)
# Gone from the market as itself: faded on the map.
GONE = (Status.ACQUIRED, Status.CLOSED)
# The fields that say what became of a listing, and which status each belongs to (None: every
# end state). Fields that do not belong to the chosen status are emptied (end_state_values).
END_STATE_FIELDS = {
    "status_since": None,
    "status_evidence": None,
    "acquired_by": Status.ACQUIRED,
    "acquirer": Status.ACQUIRED,
    "successor": Status.PIVOTED,
}


MAX_SECONDARY_TRACKS = 2

# Optional in the schema (unknown on editors' listings whose source does not say), required
# from founders: their submission form asks for them, and a submission without them cannot
# be submitted (review.workflow.REQUIRED_TO_SUBMIT).
FOUNDER_REQUIRED = ("hq_city", "hq_country")


def logo_upload_to(instance, filename):
    """A random name: the uploader's file name never reaches the disk."""
    suffix = PurePath(filename).suffix.lower() or ".png"
    return f"logos/{uuid.uuid4().hex}{suffix}"


class Listing(models.Model):
    name = models.CharField(
        _("name"), max_length=80, help_text=_("In Chinese or English, e.g. 深言科技 or DeepLang.")
    )
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    slug = models.SlugField(
        _("slug"), max_length=100, blank=True, help_text=_("Derived from the name; stable once published.")
    )
    tagline = models.CharField(
        _("tagline"), max_length=140, help_text=_("One sentence: what it does, for whom.")
    )
    description = models.TextField(
        _("description"),
        validators=[MaxLengthValidator(5000)],
        help_text=_("Plain text; separate paragraphs with an empty line. At most 5,000 characters."),
    )
    track = models.ForeignKey(
        "registry.Track",
        verbose_name=_("track"),
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    secondary_tracks = models.ManyToManyField(
        "registry.Track",
        verbose_name=_("secondary tracks"),
        blank=True,
        related_name="%(class)ss_secondary",
        help_text=_("At most two, not the primary track."),
    )
    organization = models.CharField(_("organisation"), max_length=120, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True, validators=[validate_http_url])
    logo = LogoField(
        _("logo"),
        upload_to=logo_upload_to,
        blank=True,
        validators=[validate_logo],
        help_text=_("PNG, JPEG or WebP, at most 2 MB, at least 64×64 pixels."),
    )
    founded_year = YearField(_("founded"), null=True, blank=True, validators=[validate_founded_year])
    hq_city = models.CharField(_("city"), max_length=80, blank=True)
    # Required from founders (FOUNDER_REQUIRED), unknown ("") on editors' listings whose source
    # does not say: never a default (an import that does not give it leaves it unknown).
    hq_country = CountryField(_("country"), blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, blank=True)
    funding_stage = models.CharField(
        _("funding stage"), max_length=16, choices=FundingStage.choices, blank=True
    )
    team_size = models.CharField(_("team size"), max_length=16, choices=TeamSize.choices, blank=True)
    business_models = MultiChoiceField(_("business models"), choices=BusinessModel.choices)
    target_market = models.CharField(
        _("target market"), max_length=16, choices=TargetMarket.choices, blank=True
    )
    customer_types = MultiChoiceField(_("customer types"), choices=CustomerType.choices)
    foundation_models = MultiChoiceField(_("foundation models"), choices=FoundationModel.choices)
    models_used = models.CharField(
        _("models used"), max_length=200, blank=True, help_text=_('e.g. "Qwen2.5, DeepSeek-V3"')
    )
    modalities = MultiChoiceField(_("modalities"), choices=Modality.choices)
    seeking = MultiChoiceField(_("looking for"), choices=Seeking.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_since = models.DateField(
        _("since"),
        null=True,
        blank=True,
        help_text=_("The day the pivot, acquisition or closure took effect."),
    )
    status_evidence = models.CharField(
        _("evidence"),
        max_length=500,
        blank=True,
        help_text=_("A link (an announcement, a news article, an archived page) or a short note."),
    )
    acquired_by = models.CharField(
        _("acquired by"), max_length=120, blank=True, help_text=_("The acquirer's name.")
    )
    acquirer = models.ForeignKey(
        "registry.Project",
        verbose_name=_("acquirer on the map"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acquired_%(class)ss",
        help_text=_("When the acquirer is listed on the map too."),
    )
    successor = models.ForeignKey(
        "registry.Project",
        verbose_name=_("became"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessor_%(class)ss",
        help_text=_("The listing on the map this project pivoted into."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    show_contact_email = models.BooleanField(_("show the contact email publicly"), default=False)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        """The name, with the English name beside it when there is one."""
        if self.name_en and self.name_en != self.name:
            return f"{self.name} ({self.name_en})"
        return self.name

    @property
    def paragraphs(self):
        """The description as plain-text paragraphs (no HTML is ever rendered)."""
        return [p.strip() for p in self.description.replace("\r\n", "\n").split("\n\n") if p.strip()]

    @property
    def logo_thumbnail_url(self):
        """The small version made when the logo was stored (registry.images), for tiles and lists."""
        return self.logo.storage.url(thumbnail_name(self.logo.name)) if self.logo else ""

    @property
    def public_contact_email(self):
        return self.contact_email if self.show_contact_email else ""


def secondary_track_errors(primary, secondary):
    """Messages for the secondary-track rule; forms and imports call it."""
    errors = []
    if len(secondary) > MAX_SECONDARY_TRACKS:
        errors.append(_("Choose at most two secondary tracks."))
    if primary is not None and any(track.pk == primary.pk for track in secondary):
        errors.append(_("A secondary track cannot be the primary track."))
    return errors


def end_state_values(values):
    """`values` ({field: value}, as a form's cleaned_data) with the end-state fields that do
    not belong to its status emptied: an active listing has no date or evidence, only an
    acquired one an acquirer, only a pivoted one a successor."""
    status = values.get("status") or Status.ACTIVE
    for name, belongs in END_STATE_FIELDS.items():
        if name in values and (status == Status.ACTIVE or (belongs is not None and belongs != status)):
            values[name] = "" if name in ("status_evidence", "acquired_by") else None
    return values


def end_state_errors(values, *, listing_pk=None, today=None):
    """{field: [message]} for the end-state rules (PRODUCT.md, "Listing fields") of `values`
    (after end_state_values): an end state needs its date and evidence, a date not to come,
    an acquisition its acquirer; a successor is not the listing itself (`listing_pk`: the
    project it is or updates) and does not lead back to it. Forms and imports call it."""
    errors = {}

    def fail(name, message):
        errors.setdefault(name, []).append(message)

    status = values.get("status") or Status.ACTIVE
    if status not in ENDED:
        return errors
    since = values.get("status_since")
    if not since:
        fail("status_since", _("Give the date the change took effect."))
    elif since > (today or timezone.localdate()):
        fail("status_since", _("The date cannot be in the future."))
    elif values.get("founded_year") and since.year < values["founded_year"]:
        fail("status_since", _("The date cannot be before the year the project was founded."))
    if not (values.get("status_evidence") or "").strip():
        fail("status_evidence", _("Give the evidence: a link or a short note."))
    if (
        status == Status.ACQUIRED
        and not (values.get("acquired_by") or "").strip()
        and not values.get("acquirer")
    ):
        fail("acquired_by", _("Name the acquirer, or choose it on the map."))
    successor = values.get("successor")
    if successor is not None and listing_pk is not None:
        if successor.pk == listing_pk:
            fail("successor", _("A project cannot have become itself."))
        elif listing_pk in successor_chain(successor):
            fail(
                "successor",
                _("That listing already leads back to this one: choose the project it became last."),
            )
    acquirer = values.get("acquirer")
    if acquirer is not None and listing_pk is not None and acquirer.pk == listing_pk:
        fail("acquirer", _("A project cannot have acquired itself."))
    return errors


def successor_chain(project, limit=100):
    """The ids along `project`'s successors (itself first), stopping at a repeat or `limit`."""
    model = type(project)
    seen = [project.pk]
    following = project.successor_id
    while following and following not in seen and len(seen) < limit:
        seen.append(following)
        following = model.objects.filter(pk=following).values_list("successor_id", flat=True).first()
    return seen


def listing_field_names():
    """The schema's field names, in order: CSV columns and JSON keys."""
    fields = sorted(
        Listing._meta.local_fields + Listing._meta.local_many_to_many, key=lambda f: f.creation_counter
    )
    return [field.name for field in fields]


def copy_listing(source, target):
    """Copy every listing field except the slug from one listing to another (Project <->
    Submission). Secondary tracks are many-to-many: copy them with
    `target.secondary_tracks.set(source.secondary_tracks.all())` once target is saved."""
    for name in listing_field_names():
        if name in ("slug", "secondary_tracks"):
            continue
        field = Listing._meta.get_field(name)
        value = getattr(source, field.attname)
        if isinstance(field, models.FileField):
            value = value.name or ""  # the stored file's name, not the source's FieldFile
        setattr(target, field.attname, value)
