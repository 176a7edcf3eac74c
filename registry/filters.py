"""ProjectFilterSet: every list parameter of the brief, for the list, the map, exports and the API.

Invalid values never fail a request: django-filter leaves a field that does not
validate out of `cleaned_data`, so it is ignored, and `ignored_messages()` says so.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from registry import fragments
from registry.fields import has_any
from registry.listing import (
    BusinessModel,
    CustomerType,
    FoundationModel,
    FundingStage,
    Modality,
    Seeking,
    Stage,
    Status,
    TargetMarket,
    TeamSize,
)
from registry.models import Project, Track
from registry.search import MAX_QUERY_LENGTH, matching, substring_lookup
from registry.search import query_terms as search_terms

_CHOICES = {}


def _choices(name, language, field):
    """A fixed filter's choices, (code, label) as text, once per language."""
    key = (name, language)
    if key not in _CHOICES:
        _CHOICES[key] = [(str(code), str(label)) for code, label in field.choices]
    return _CHOICES[key]


SORTS = {
    "newest": ("-published_at", "-pk"),
    "name": ("name", "pk"),
    "founded": ("-founded_year", "-published_at", "-pk"),
}


class TrackField(forms.MultipleChoiceField):
    """Track slugs, checked against the tracks the filter set was given (read once for the
    request and shared with the page: no query of its own); cleans to those Track objects,
    in the tracks' order."""

    def __init__(self, *, tracks, **kwargs):
        self.tracks = tracks  # a callable: the list of tracks, read when first needed
        super().__init__(choices=self.track_choices, **kwargs)

    def track_choices(self):
        return [(track.slug, track.name) for track in self.tracks()]

    def clean(self, value):
        slugs = set(super().clean(value))
        return [track for track in self.tracks() if track.slug in slugs] if slugs else []


# --- The filter vocabulary -------------------------------------------------------------
#
# ProjectFilterSet below is the one declaration of what the public can filter by. What the
# filters need elsewhere is derived from it (docs/decisions/0013-the-filter-vocabulary.md):
# the columns the public index and the map's tile index carry, the kept counts' scopes and
# key columns (registry/counts.py), the dimensions /stats/ charts (registry/stats.py), the
# SQL text of all of these (registry/publicsql.py, written into migrations by
# `manage.py makemigrations`), and which filters a request uses (in_use()).

ONE_OF = "one_of"  # one value per project (a column): a count scope per value
MANY_OF = "many_of"  # several values per project (registry.fields.MultiChoiceField): a scope per value
VALUE = "value"  # a plain comparison on a column (a city, a year): no count scope


class Declared:
    """A filter of the vocabulary: its `kind` (ONE_OF, MANY_OF or VALUE) and, when /stats/
    charts its column, the chart's title (`chart`)."""

    kind = VALUE

    def __init__(self, *args, chart=None, **kwargs):
        self.chart = chart
        super().__init__(*args, **kwargs)

    @property
    def column(self):
        return Project._meta.get_field(self.field_name).column

    @property
    def value_sql(self):
        """SQL of a row's value as the codes of a count scope name it ('stage:growth')."""
        return self.column

    def scope_codes(self, value):
        """The codes of the count scopes of a cleaned value (registry.counts.scopes_for)."""
        return [str(code) for code in value]


class OneOfFilter(Declared, django_filters.MultipleChoiceFilter):
    """Rows whose column holds any of the chosen codes."""

    kind = ONE_OF

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class TrackFilter(OneOfFilter):
    """Tracks named by slug in the URL, matched by primary key in SQL (no join)."""

    field_class = TrackField

    @property
    def field(self):
        self.extra["tracks"] = self.parent.tracks
        return super().field

    def filter(self, qs, value):
        return qs.filter(track__in=[track.pk for track in value]) if value else qs

    def scope_codes(self, value):
        return [str(track.pk) for track in value]


class FlagFilter(OneOfFilter):
    """A yes/no column offered as one tick box: ticked (`name=1`), only the rows where it is
    true; any other value is not understood (and so ignored, with a message)."""

    def __init__(self, *args, ticked, **kwargs):
        super().__init__(*args, choices=[("1", ticked)], **kwargs)

    @property
    def value_sql(self):
        return f"CASE WHEN {self.column} THEN '1' ELSE '0' END"

    def filter(self, qs, value):
        return qs.filter(**{self.field_name: True}) if value else qs


class RecentFilter(FlagFilter):
    """A time column within the last `days` days, offered as one tick box (`name=1`). A plain
    comparison, no count scope: what it selects moves with time."""

    kind = VALUE

    def __init__(self, *args, days, **kwargs):
        self.days = days
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": timezone.now() - timedelta(days=self.days)})


class MultiChoiceFilter(OneOfFilter):
    """Rows whose many-of field holds any of the chosen codes."""

    kind = MANY_OF

    def filter(self, qs, value):
        return qs.filter(has_any(self.field_name, value)) if value else qs


class TextFilter(Declared, django_filters.CharFilter):
    """A column compared with one text value."""


class YearFilter(Declared, django_filters.NumberFilter):
    """A column compared with a number."""


class ProjectFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    track = TrackFilter(field_name="track", label=_("Track"), chart=_("Projects per track"))
    hq_country = OneOfFilter(choices=countries, label=_("Country"), chart=_("Projects per country or region"))
    hq_city = TextFilter(lookup_expr="iexact", label=_("City"), chart=_("Top cities"))
    stage = OneOfFilter(choices=Stage.choices, label=_("Stage"), chart=_("Projects per stage"))
    funding_stage = OneOfFilter(
        choices=FundingStage.choices, label=_("Funding"), chart=_("Projects per funding stage")
    )
    team_size = OneOfFilter(choices=TeamSize.choices, label=_("Team size"))
    target_market = OneOfFilter(choices=TargetMarket.choices, label=_("Target market"))
    status = OneOfFilter(choices=Status.choices, label=_("Status"))
    business_models = MultiChoiceFilter(
        choices=BusinessModel.choices, label=_("Business models"), chart=_("Projects per business model")
    )
    customer_types = MultiChoiceFilter(choices=CustomerType.choices, label=_("Customers"))
    foundation_models = MultiChoiceFilter(
        choices=FoundationModel.choices,
        label=_("Foundation models"),
        chart=_("Projects per type of foundation model"),
    )
    modalities = MultiChoiceFilter(choices=Modality.choices, label=_("Modalities"))
    seeking = MultiChoiceFilter(choices=Seeking.choices, label=_("Looking for"))
    founded_min = YearFilter(
        field_name="founded_year", lookup_expr="gte", label=_("Founded from"), min_value=1900, max_value=2100
    )
    founded_max = YearFilter(
        field_name="founded_year", lookup_expr="lte", label=_("Founded until"), min_value=1900, max_value=2100
    )
    reviewed = FlagFilter(
        field_name="verified", label=_("Reviewed"), ticked=_("Only projects reviewed by the association")
    )
    verified_recently = RecentFilter(
        field_name="last_verified_at",
        days=365,
        label=_("Verified"),
        ticked=_("Only projects verified within the last 12 months"),
    )
    sort = django_filters.ChoiceFilter(
        method="sort_by",
        choices=[("newest", _("Newest")), ("name", _("Name")), ("founded", _("Founded"))],
        label=_("Sort"),
        empty_label=None,
    )

    class Meta:
        model = Project
        fields = []

    # The side panel's filters, in order; many-of ones are ticked in a list of checkboxes, a
    # flag (FlagFilter) is one tick box shown above the groups.
    PANEL = ["reviewed", "verified_recently", "track", "stage", "funding_stage", "team_size", "business_models", "target_market",
             "customer_types", "foundation_models", "modalities", "seeking", "status", "hq_country"]  # fmt: skip

    def __init__(self, data=None, queryset=None, *, tracks=None, **kwargs):
        """`tracks`: all tracks (a list, or a callable giving it when first needed), when the
        page shares one list between its header, this filter set and its content."""
        self._tracks = tracks
        super().__init__(data, queryset, **kwargs)
        for name, field in self.form.fields.items():
            if name == "hq_country":
                field.widget = forms.SelectMultiple(attrs={"class": "form-select form-select-sm", "size": 6})
                field.widget.choices = field.choices
            elif isinstance(field.widget, forms.SelectMultiple):
                field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select form-select-sm"
            else:
                field.widget.attrs["class"] = "form-control form-control-sm"
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs.update(
            {"placeholder": _("Search names, taglines, descriptions…"), "maxlength": MAX_QUERY_LENGTH}
        )

    def tracks(self):
        """Every track, in order: the list given (or the callable's), else read once when needed."""
        if self._tracks is None:
            self._tracks = list(Track.objects.all())
        elif callable(self._tracks):
            self._tracks = self._tracks()
        return self._tracks

    # --- What the declaration gives the rest of the code ------------------------------------

    @classmethod
    def vocabulary(cls):
        """{name: filter} of the declared filters on listing columns, in declaration order."""
        return {name: filter_ for name, filter_ in cls.base_filters.items() if isinstance(filter_, Declared)}

    @classmethod
    def filtered_columns(cls):
        """The columns the filters compare (the public and tile indexes carry them)."""
        return list(dict.fromkeys(filter_.column for filter_ in cls.vocabulary().values()))

    @classmethod
    def scoped(cls, kind):
        """{name: filter} of the filters of `kind` (ONE_OF or MANY_OF): the kept counts' scopes."""
        return {name: f for name, f in cls.vocabulary().items() if f.kind == kind}

    @classmethod
    def charted(cls):
        """{name: filter} of the filters whose column /stats/ charts, in declaration order."""
        return {name: f for name, f in cls.vocabulary().items() if f.chart}

    def panel_fields(self):
        return [self.form[name] for name in self.PANEL]

    def panel(self):
        """The side panel's groups (registry/_filter_panel.html), in PANEL order: for each, its
        name, label, whether it is open (a value was given) or invalid (a value was not
        understood), whether it is a select (the country) rather than checkboxes, its options
        (value, label, and whether it is ticked), and the key it is cached under
        (registry/fragments.py)."""
        form = self.form
        errors = form.errors
        language = get_language()
        groups = []
        for name in self.PANEL:
            given = form[name].value() or []
            chosen = {str(value) for value in given}
            if name == "track":
                choices = [(track.slug, track.name) for track in self.tracks()]
            else:
                choices = _choices(name, language, form.fields[name])
            groups.append(
                {
                    "name": name,
                    "key": fragments.filter_group_key(name, chosen, name in errors, choices),
                    "label": form.fields[name].label,
                    "open": bool(given),
                    "invalid": name in errors,
                    "select": name == "hq_country",
                    "toggle": isinstance(self.filters[name], FlagFilter),
                    "options": [
                        {"value": code, "label": label, "checked": code in chosen} for code, label in choices
                    ],
                }
            )
        return groups

    def search(self, queryset, name, value):
        """Every term must appear, as a substring, in one of the searched fields (registry.search);
        `%` and `_` are literal. Name matches rank first: `name_rank` is that ordering, an
        expression rather than an annotation, so a page's ids can be read first and then its
        rows ordered again by it (registry.views.paginate)."""
        terms = search_terms(value)
        queryset = matching(queryset, value)
        if terms:
            lookup = substring_lookup(terms[0])
            self.name_rank = Case(
                When(
                    Q(**{f"name__{lookup}": terms[0]}) | Q(**{f"name_en__{lookup}": terms[0]}), then=Value(0)
                ),
                default=Value(1),
                output_field=IntegerField(),
            ).asc()
        return queryset

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["newest"]))

    def filter_queryset(self, queryset):
        self.name_rank = None
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("sort"):
            ranked = () if self.name_rank is None else (self.name_rank,)
            queryset = queryset.order_by(*ranked, *SORTS["newest"])
        return queryset

    def in_use(self):
        """{name: value} of the filters given a valid value (the order is not a filter)."""
        if not self.is_bound:
            return {}
        self.is_valid()  # values that do not validate are left out of cleaned_data: ignored
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name != "sort" and value not in (None, "", [], ())
        }

    def narrows_beyond_tracks(self):
        """Whether a filter other than the tracks is in use."""
        return any(name != "track" for name in self.in_use())

    def ignored_messages(self):
        """One message per parameter that was not understood and is therefore ignored."""
        messages = []
        for name in self.form.errors:
            label = self.filters[name].label if name in self.filters else name
            messages.append(
                _("“%(label)s”: %(value)s was not understood and is ignored.")
                % {
                    "label": label,
                    "value": ", ".join(self.data.getlist(name)) if hasattr(self.data, "getlist") else "",
                }
            )
        return messages


def query_without(params, name, value=None):
    """The query string of `params` without parameter `name` (or only its `value`)."""
    copy = params.copy()
    copy.pop("page", None)  # a changed filter starts again at page 1
    if value is None:
        copy.pop(name, None)
    else:
        copy.setlist(name, [v for v in copy.getlist(name) if v != value])
    return copy.urlencode()


def active_filters(filterset, params):
    """(label, value label, link without it) for each filter in use: removable chips."""
    if not filterset.is_bound:
        return []
    filterset.is_valid()
    chips = []
    for name, value in filterset.form.cleaned_data.items():
        if name == "sort" or value in (None, "", [], ()) or (hasattr(value, "exists") and not value.exists()):
            continue
        label = filterset.filters[name].label
        if name == "track":
            chips += [(label, track.name, query_without(params, name, track.slug)) for track in value]
        elif isinstance(value, list):
            choices = dict(filterset.filters[name].extra.get("choices") or [])
            chips += [(label, choices.get(code, code), query_without(params, name, code)) for code in value]
        else:
            chips.append((label, value, query_without(params, name)))
    return chips
