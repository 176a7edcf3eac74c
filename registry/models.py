"""The published record: tracks and projects.

`Project.objects.published()` is the only door to public data: every public view,
feed, export and API goes through it, so drafts and scheduled entries never leak.
"""

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from registry.fields import NameKeyField, SearchTokensField
from registry.listing import Listing
from registry.slugs import unique_slug


def _in_chinese():
    return (get_language() or "").startswith("zh")


class Track(models.Model):
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80)
    description_zh = models.CharField(_("description (Chinese)"), max_length=200, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("display order"), default=0)
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#4f46e5",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour like #4f46e5."))],
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("track")
        verbose_name_plural = _("tracks")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("registry:track-detail", kwargs={"slug": self.slug})

    @property
    def name(self):
        return self.name_zh if _in_chinese() else self.name_en

    @property
    def description(self):
        return (self.description_zh if _in_chinese() else self.description_en) or self.description_en


# The publication rule, once: a project is public when it is published and its publication
# time has come. `ProjectQuerySet.published()` and `.scheduled()` are its Python doors; SQL that
# must restate it (the kept counts' functions, the partial indexes: registry.publicsql) is
# written by the functions below.
PUBLISHED_FLAG = "published"  # the part that does not move with time: a partial index's condition


def public_sql(table, at):
    """SQL: the row `table` is public at the time `at` (an SQL expression)."""
    return f"{table}.{PUBLISHED_FLAG} AND {table}.published_at <= {at}"


def became_public_sql(table, after, upto):
    """SQL: the row `table` was not public at `after` and is at `upto` (after <= upto)."""
    return f"{table}.{PUBLISHED_FLAG} AND {table}.published_at > {after} AND {table}.published_at <= {upto}"


def track_styles_version(tracks):
    """A short digest of the tracks' colours: the track stylesheet's URL (aimap.views.track_styles)
    changes when they do."""
    text = ";".join(f"{track.slug}:{track.color}" for track in tracks)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


class ProjectQuerySet(models.QuerySet):
    def published(self):
        """What the public may see: published, and its publication time has come."""
        return self.filter(published=True, published_at__lte=timezone.now())

    def scheduled(self):
        """Published, with a publication time still to come: public at that time, with no write."""
        return self.filter(published=True, published_at__gt=timezone.now())

    def newest_first(self):
        return self.order_by("-published_at", "-pk")


# The listings a listing links to, and what a project page shows of each (Project.lineage).
LINKS = ("successor", "acquirer")
LINK_FIELDS = ("slug", "name", "published", "published_at")


class Project(Listing):
    class ListedBy(models.TextChoices):
        FOUNDER = "founder", _("the founder")
        EDITORS = "editors", _("the editors")

    class Provenance(models.TextChoices):
        """Where a listing's content comes from, as every page and download says it."""

        REVIEWED = "reviewed", _("reviewed by the association")
        CLAIMED = "claimed", _("claimed by its founder, not yet reviewed")
        LISTED = "listed", _("listed by the editors, not yet reviewed")
        SUBMITTED = "submitted", _("listed by its founder, not yet reviewed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    listed_by = models.CharField(
        _("listed by"), max_length=16, choices=ListedBy.choices, default=ListedBy.FOUNDER
    )
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(
        _("publication time"),
        null=True,
        blank=True,
        help_text=_("A time in the future keeps the project off the public site until then."),
    )
    first_published_at = models.DateTimeField(_("first published"), null=True, blank=True, editable=False)
    featured = models.BooleanField(_("featured"), default=False)
    verified = models.BooleanField(_("reviewed by the association"), default=False)
    verified_at = models.DateTimeField(_("reviewed on"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed by its founder on"), null=True, blank=True)
    # When the listing was last confirmed true: a review decision, an editor's check or the
    # founder's confirmation (review.lifecycle). Not updated_at: an edit confirms nothing.
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True, editable=False)
    # When the yearly "still operating?" email last went to the owner (review.lifecycle).
    confirmation_sent_at = models.DateTimeField(
        _("confirmation requested"), null=True, blank=True, editable=False
    )
    # Where an editors' listing came from (an import's source): credited on its page.
    source_name = models.CharField(_("source"), max_length=200, blank=True)
    source_url = models.URLField(_("source address"), max_length=300, blank=True)
    source_licence = models.CharField(_("source licence"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    search_tokens = SearchTokensField(_("search tokens"))
    name_key = NameKeyField(_("name key"), help_text=_("The name as imports match it (registry.names)."))

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="registry_project_slug_unique"),
            models.CheckConstraint(condition=~models.Q(slug=""), name="registry_project_slug_not_empty"),
        ]
        # The public pages' order is (published_at, pk), newest first; on PostgreSQL the index
        # registry_project_public_idx over (published, published_at, id) carries the filtered
        # columns (registry.publicsql: generated from the filters, with the map's tile index).
        indexes = [
            models.Index(
                fields=["track", "published", "published_at", "id"], name="registry_project_track_pub_idx"
            ),
        ]

    def save(self, *args, **kwargs):
        self.assign_slug()
        super().save(*args, **kwargs)

    def assign_slug(self):
        """Derive a unique slug from the name once; never change an existing one."""
        if not self.slug:
            self.slug = unique_slug(
                self.name,
                self.name_en,
                taken=lambda slug: Project.objects.filter(slug=slug).exclude(pk=self.pk).exists(),
            )

    def get_absolute_url(self):
        return reverse("registry:project-detail", kwargs={"slug": self.slug})

    @staticmethod
    def provenance_of(verified, claimed_at, listed_by):
        """The Provenance of a listing with these values (the downloads read them as columns)."""
        if verified:
            return Project.Provenance.REVIEWED
        if claimed_at:
            return Project.Provenance.CLAIMED
        if listed_by == Project.ListedBy.EDITORS:
            return Project.Provenance.LISTED
        return Project.Provenance.SUBMITTED

    @property
    def provenance(self):
        return self.provenance_of(self.verified, self.claimed_at, self.listed_by)

    @property
    def provenance_date(self):
        """When what the provenance says happened: the review, the claim, the listing."""
        return (
            {
                self.Provenance.REVIEWED: self.verified_at,
                self.Provenance.CLAIMED: self.claimed_at,
            }.get(self.provenance)
            or self.first_published_at
            or self.published_at
        )

    @staticmethod
    def link_annotations():
        """Annotations: what the successor and the acquirer show on a project page (their slug,
        name and publication), read in the project's own query (lineage() uses them). Cheaper
        than select_related, which compiles and converts both whole rows."""
        return {f"_{name}_{field}": models.F(f"{name}__{field}") for name in LINKS for field in LINK_FIELDS}

    @staticmethod
    def linked_here():
        """An annotation: whether a listing names the row as what it became or as its acquirer
        (public or not: lineage() then asks which of them the public may see). With it,
        lineage() asks nothing of a listing nobody links to and that links to none (most of
        them). Written as SQL: the ORM's Exists cost 0.6 ms a page to compile, this 0.1 ms."""
        meta = Project._meta
        table, pk = meta.db_table, meta.pk.column
        successor, acquirer = (meta.get_field(name).column for name in ("successor", "acquirer"))
        return RawSQL(
            f"EXISTS (SELECT 1 FROM {table} AS linked WHERE linked.{successor} = {table}.{pk}"
            f" OR linked.{acquirer} = {table}.{pk})",
            (),
            output_field=models.BooleanField(),
        )

    def lineage(self):
        """What the public may see of this listing's lineage: {"successor": the listing it
        became, "acquirer": the listing that acquired it (or None), "predecessors": the
        listings that became it, "acquired": the listings it acquired}. Read with
        select_related("successor", "acquirer") and linked_here() (the project page), it asks
        one query, and only when another listing links here; else up to three."""
        lineage = {"successor": None, "acquirer": None, "predecessors": [], "acquired": []}
        for name in LINKS:
            if getattr(self, f"{name}_id"):
                if hasattr(self, f"_{name}_slug"):  # read with link_annotations(): no query
                    values = {field: getattr(self, f"_{name}_{field}") for field in LINK_FIELDS}
                    linked = Project(pk=getattr(self, f"{name}_id"), **values)
                else:
                    linked = getattr(self, name)
                lineage[name] = linked if linked.is_public else None
        if getattr(self, "is_linked_here", True) is False:
            return lineage
        here = models.Q(successor=self.pk) | models.Q(acquirer=self.pk)
        related = (
            Project.objects.published()
            .filter(here)
            .exclude(pk=self.pk)
            .only("pk", "slug", "name", "successor_id", "acquirer_id", "status", "status_since")
            .order_by("status_since", "pk")
        )
        for other in related:
            if other.successor_id == self.pk:
                lineage["predecessors"].append(other)
            if other.acquirer_id == self.pk:
                lineage["acquired"].append(other)
        return lineage

    @staticmethod
    def source_text(name, url, licence):
        """An import's source as one text (the downloads' `source` column)."""
        return " ".join(part for part in (name, f"({licence})" if licence else "", url) if part)

    @property
    def source(self):
        return self.source_text(self.source_name, self.source_url, self.source_licence)

    class PublicState(models.TextChoices):
        """Where the listing stands with the public, whatever its submissions' states."""

        PUBLIC = "public", _("on the map")
        SCHEDULED = "scheduled", _("scheduled")
        TAKEN_DOWN = "taken_down", _("taken down")
        NEVER = "never", _("never published")

    @property
    def public_state(self):
        if self.published and self.published_at:
            return (
                self.PublicState.PUBLIC if self.published_at <= timezone.now() else self.PublicState.SCHEDULED
            )
        return self.PublicState.TAKEN_DOWN if self.first_published_at else self.PublicState.NEVER

    @property
    def public_state_label(self):
        return self.PublicState(self.public_state).label

    @property
    def is_public(self):
        return bool(self.published and self.published_at and self.published_at <= timezone.now())

    def clean(self):
        super().clean()
        if self.name:
            self.assign_slug()
        if self.published:
            self.publish(at=self.published_at)  # now if no time was given; first publication too

    PUBLICATION_FIELDS = ("published", "published_at", "first_published_at")

    def publish(self, at=None):
        """Set the publication fields (not saved): published, at `at` (now by default; a time
        to come schedules it), first published then unless it was before. Every writer
        (publishing a submission, republishing, imports, the demo) sets them through here."""
        for name, value in self.publication_values(at, self.first_published_at).items():
            setattr(self, name, value)

    @staticmethod
    def publication_values(at=None, first_published_at=None):
        """{field: value} of the publication fields for a listing published at `at` (now by
        default); for writers of many rows at once (the demo's bulk load)."""
        at = at or timezone.now()
        return {"published": True, "published_at": at, "first_published_at": first_published_at or at}


class PublicCount(models.Model):
    """A piece of a count of the public projects, kept by PostgreSQL's triggers (registry/counts.py):
    within `scope` ('' for all public projects, or one filter value such as 'stage:growth'),
    `n` projects more (or fewer) have `value` in `dimension`. A count is the sum of its pieces."""

    scope = models.CharField(max_length=64)
    dimension = models.CharField(max_length=20)
    value = models.CharField(max_length=100, blank=True)
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["scope"], name="registry_publiccount_scope")]

    def __str__(self):
        return f"{self.scope or '*'} {self.dimension}={self.value}: {self.n:+d}"


class PublicCountState(models.Model):
    """The one row saying the counts are kept: every project published up to `counted_until`
    is counted (later ones are added when read), months in `time_zone`."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    counted_until = models.DateTimeField()
    time_zone = models.CharField(max_length=64)

    def __str__(self):
        return f"counted until {self.counted_until:%Y-%m-%d %H:%M:%S} ({self.time_zone})"


class DownloadFile(models.Model):
    """The whole map as a file (registry.downloadfiles): written by a task after publications,
    served for the downloads without filters. One row per format, naming the current file."""

    format = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)  # in the default storage
    size = models.BigIntegerField()
    gzip_name = models.CharField(max_length=200)  # the same bytes, gzip-compressed
    gzip_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)  # of the uncompressed file: the ETag
    rows = models.PositiveIntegerField()
    written_at = models.DateTimeField()  # the data as of then (when the reading began)
    # The next scheduled publication then: from that time on the file is out of date.
    valid_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.format}: {self.rows} projects as of {self.written_at:%Y-%m-%d %H:%M:%S}"


class ExportSlot(models.Model):
    """A client's one streamed download (registry.exportlimit): held while it runs, given back
    when the response closes; `expires_at` frees one a killed worker never gave back."""

    client = models.CharField(max_length=64, unique=True)  # the client's address
    token = models.CharField(max_length=32)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.client} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
