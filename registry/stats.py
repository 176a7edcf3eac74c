"""The numbers of /stats/ and of the home page.

Everything here counts a queryset it is given (the view passes `Project.objects.published()`
narrowed by the list's ProjectFilterSet), one GROUP BY or one aggregate per chart, so the
number of queries does not grow with the number of projects.

A chart is a title and rows (label, value); the geometry of its inline SVG is worked out
here, because templates cannot do arithmetic.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from registry.fields import has_any
from registry.listing import BusinessModel, FoundationModel, FundingStage, Stage
from registry.models import Track

TOP_COUNTRIES = 10
TOP_CITIES = 10
MONTHS = 24

# Horizontal bar chart: the label above each bar, the number after it (SVG user units).
BAR_CHART_WIDTH = 640
BAR_ROW_HEIGHT = 36
BAR_HEIGHT = 14
BAR_MAX_WIDTH = 560

# Column chart of the months.
COLUMN_SLOT = 30
COLUMN_WIDTH = 22
COLUMN_MAX_HEIGHT = 150
COLUMN_TOP = 18  # room for the number above the highest column


@dataclass
class Row:
    label: str
    value: int
    code: str = ""  # the filter value this row stands for, if it has one
    color: str = ""  # a track's colour; other bars take the stylesheet's
    url: str = ""
    axis_label: str = ""  # columns: the month's number under it
    year: str = ""  # columns: the year, under January and under the first column
    # geometry, filled in by Chart.lay_out
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    label_y: float = 0
    year_y: float = 0
    value_x: float = 0
    value_y: float = 0


@dataclass
class Chart:
    slug: str
    title: str
    heading: str  # the table's first column
    rows: list[Row]
    param: str = ""  # the list's GET parameter for a row's code: the table links to the list with it
    note: str = ""
    columns: bool = False  # a column chart (months) rather than horizontal bars
    total: int = field(init=False, default=0)

    def __post_init__(self):
        self.total = sum(row.value for row in self.rows)

    @property
    def peak(self):
        return max((row.value for row in self.rows), default=0)

    @property
    def is_empty(self):
        return self.total == 0

    @property
    def height(self):
        if self.columns:
            return COLUMN_TOP + COLUMN_MAX_HEIGHT + 34
        return len(self.rows) * BAR_ROW_HEIGHT + 4

    @property
    def width(self):
        return len(self.rows) * COLUMN_SLOT if self.columns else BAR_CHART_WIDTH

    @property
    def baseline(self):
        return COLUMN_TOP + COLUMN_MAX_HEIGHT

    def lay_out(self):
        peak = self.peak or 1
        for index, row in enumerate(self.rows):
            if self.columns:
                row.height = round(row.value / peak * COLUMN_MAX_HEIGHT, 1)
                row.width = COLUMN_WIDTH
                row.x = index * COLUMN_SLOT + (COLUMN_SLOT - COLUMN_WIDTH) / 2
                row.y = round(self.baseline - row.height, 1)
                row.value_x = row.x + COLUMN_WIDTH / 2  # centred above the column
                row.value_y = row.y - 4
                row.label_y = self.baseline + 14  # the month under it, the year below that
                row.year_y = self.baseline + 28
            else:
                # a non-zero count is always at least a sliver, so it is not mistaken for none
                row.width = max(round(row.value / peak * BAR_MAX_WIDTH, 1), 2 if row.value else 0)
                row.height = BAR_HEIGHT
                row.x = 0
                row.y = index * BAR_ROW_HEIGHT + 18
                row.label_y = row.y - 4  # the label above the bar
                row.value_x = row.width + 6  # the number after it
                row.value_y = row.y + BAR_HEIGHT - 2
        return self

    def link_rows(self, params):
        """Each row with a code links to the list: the current filters, with this row's value
        instead of any other value of the same parameter."""
        if not self.param:
            return self
        base = reverse("registry:project-list")
        for row in self.rows:
            if row.code:
                query = params.copy()
                query.pop("page", None)
                query.setlist(self.param, [row.code])
                row.url = f"{base}?{query.urlencode()}"
        return self


def _counts(projects, name):
    return dict(projects.order_by().values_list(name).annotate(n=Count("pk")))


# The one-of fields charted, and the many-of ones: (field, choices, chart title, table heading).
ONE_OF = [
    ("stage", Stage.choices, _("Projects per stage"), _("Stage")),
    ("funding_stage", FundingStage.choices, _("Projects per funding stage"), _("Funding")),
]
MANY_OF = [
    ("business_models", BusinessModel.choices, _("Projects per business model"), _("Business models")),
    (
        "foundation_models",
        FoundationModel.choices,
        _("Projects per type of foundation model"),
        _("Foundation models"),
    ),
]


def totals(projects):
    """Headline numbers: projects, countries, projects reviewed by the association (one query)."""
    return projects.order_by().aggregate(**_total_expressions())


def _total_expressions():
    return {
        "projects": Count("pk"),
        "countries": Count("hq_country", distinct=True),
        "reviewed": Count("pk", filter=Q(verified=True)),
    }


def totals_and_many_of_counts(projects):
    """The headline numbers and, for every many-of field, the projects holding each code:
    one aggregate query, one conditional count per code."""
    expressions = _total_expressions()
    for name, choices, _title, _heading in MANY_OF:
        for code, _label in choices:
            expressions[f"n_{name}_{code}"] = Count("pk", filter=has_any(name, [code]))
    return projects.order_by().aggregate(**expressions)


def one_of_counts(projects):
    """{field: {code: projects}} for every ONE_OF field, from one GROUP BY over all of them
    (a few dozen groups at most: the fields have a handful of choices each)."""
    names = [name for name, *_rest in ONE_OF]
    counts = {name: {} for name in names}
    for *codes, n in projects.order_by().values_list(*names).annotate(n=Count("pk")):
        for name, code in zip(names, codes, strict=True):
            counts[name][code] = counts[name].get(code, 0) + n
    return counts


def track_counts(projects):
    """{track id: number of projects}."""
    return _counts(projects, "track")


def by_track(projects, tracks):
    counts = track_counts(projects)
    rows = [Row(track.name, counts.get(track.pk, 0), code=track.slug, color=track.color) for track in tracks]
    return Chart("track", _("Projects per track"), _("Track"), rows, param="track")


def by_country(projects):
    counts = sorted(_counts(projects, "hq_country").items(), key=lambda item: (-item[1], item[0]))
    rows = [Row(countries.name(code) or code, n, code=code) for code, n in counts[:TOP_COUNTRIES]]
    rest = sum(n for _code, n in counts[TOP_COUNTRIES:])
    if rest:
        rows.append(Row(str(_("Other countries and regions")), rest))
    return Chart("country", _("Projects per country or region"), _("Country"), rows, param="hq_country")


def by_city(projects):
    counts = (
        projects.order_by()
        .exclude(hq_city="")
        .values_list("hq_city")
        .annotate(n=Count("pk"))
        .order_by("-n", "hq_city")[:TOP_CITIES]
    )
    rows = [Row(city, n, code=city) for city, n in counts]
    return Chart(
        "city",
        _("Top cities"),
        _("City"),
        rows,
        param="hq_city",
        note=_("The ten cities with the most projects; projects without a city are left out."),
    )


def by_one_of(counts):
    """One chart per ONE_OF field: every choice in choice order, zeros included, then the
    projects that did not say, if any."""
    charts = []
    for name, choices, title, heading in ONE_OF:
        rows = [Row(str(label), counts[name].get(code, 0), code=code) for code, label in choices]
        if counts[name].get(""):
            rows.append(Row(str(_("Not given")), counts[name][""]))
        charts.append(Chart(name, title, heading, rows, param=name))
    return charts


def by_many_of(numbers):
    """One chart per MANY_OF field (a project may count under several codes)."""
    note = _("A project can have several, so the numbers can add up to more than the projects counted.")
    return [
        Chart(
            name,
            title,
            heading,
            [Row(str(label), numbers[f"n_{name}_{code}"], code=code) for code, label in choices],
            param=name,
            note=note,
        )
        for name, choices, title, heading in MANY_OF
    ]


def month_starts(now, months=MONTHS):
    """The first moment of each of the last `months` months, oldest first, in the current time zone."""
    local = timezone.localtime(now)  # aware, in the current zone (a zoneinfo zone: no pytz pitfalls)
    year, month = local.year, local.month
    starts = []
    for _step in range(months):
        starts.append(datetime(year, month, 1, tzinfo=local.tzinfo))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def by_month(projects, now=None):
    """Projects first published in each of the last MONTHS months (one query). Listings
    without a first publication time count from their publication time."""
    starts = month_starts(now or timezone.now())
    tz = timezone.get_current_timezone()
    found = (
        projects.order_by()
        .annotate(first=Coalesce("first_published_at", "published_at"))
        .filter(first__gte=starts[0])
        .annotate(month=TruncMonth("first", tzinfo=tz))
        .values_list("month")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for month, n in found:
        month = timezone.localtime(month, tz) if timezone.is_aware(month) else month
        counts[(month.year, month.month)] = counts.get((month.year, month.month), 0) + n
    rows = [
        Row(
            date_format(start, "YEAR_MONTH_FORMAT"),
            counts.get((start.year, start.month), 0),
            axis_label=str(start.month),
            # under each January, and under the first column unless a January follows too closely
            year=str(start.year) if start.month == 1 or (index == 0 and start.month <= 10) else "",
        )
        for index, start in enumerate(starts)
    ]
    return Chart("month", _("Published per month"), _("Month"), rows, columns=True)


def project_stats(projects, tracks, params):
    """The headline numbers and every chart of /stats/, laid out, rows linked to the list
    with the current filters. Seven queries, whatever the number of projects."""
    numbers = totals_and_many_of_counts(projects)
    charts = [
        by_track(projects, tracks),
        by_country(projects),
        by_city(projects),
        *by_one_of(one_of_counts(projects)),
        *by_many_of(numbers),
        by_month(projects),
    ]
    headline = {key: numbers[key] for key in ("projects", "countries", "reviewed")}
    return headline, [chart.lay_out().link_rows(params) for chart in charts]


# --- Decisions on submissions, per track (for /about/review/) ----------------------------


@dataclass
class DecisionRow:
    track: Track | None
    approved: int = 0
    changes_requested: int = 0
    rejected: int = 0

    @property
    def total(self):
        return self.approved + self.changes_requested + self.rejected


def decisions_per_track(tracks):
    """Submissions per track by their decision so far: approved (published or about to be),
    changes requested, rejected. One query; submissions without a decision are not counted."""
    from review.models import Submission

    State = Submission.State
    column = {
        State.APPROVED: "approved",
        State.PUBLISHED: "approved",
        State.CHANGES_REQUESTED: "changes_requested",
        State.REJECTED: "rejected",
    }
    counts = (
        Submission.objects.order_by()
        .filter(state__in=list(column), track__isnull=False)
        .values_list("track", "state")
        .annotate(n=Count("pk"))
    )
    rows = {track.pk: DecisionRow(track) for track in tracks}
    for track_id, state, n in counts:
        if track_id in rows:
            setattr(rows[track_id], column[state], getattr(rows[track_id], column[state]) + n)
    total = DecisionRow(None)
    for row in rows.values():
        total.approved += row.approved
        total.changes_requested += row.changes_requested
        total.rejected += row.rejected
    return list(rows.values()), total
