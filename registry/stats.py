"""The numbers of /stats/ and the map's per-track counts.

Everything here counts the public projects of a ProjectFilterSet (the view passes one over
`Project.objects.published()`, with the list's filters): from the counts PostgreSQL keeps
(registry/counts.py) when they cover the filters, else afresh, every chart from one query
whatever the number of projects (GROUPING SETS: one pass over the rows). Both give the same
registry.counts.Counts, from which the charts are built.

A chart is a title and rows (label, value); the geometry of its inline SVG is worked out
here, as numbers, because templates cannot do arithmetic; stats.html draws it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db import connection
from django.db.models import CharField, Count, ExpressionWrapper, F, IntegerField, Value
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from registry import counts, filters
from registry.fields import SEPARATOR
from registry.filters import ProjectFilterSet
from registry.models import Project

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
        # What QueryDict.copy(), .pop("page"), .setlist(param, [code]) and .urlencode() give,
        # with the other parameters encoded once rather than once per row.
        names = [name for name in params if name != "page"]
        if self.param not in names:
            names.append(self.param)
        at = names.index(self.param)
        before, after = (
            "&".join(_encoded(name, value) for name in part for value in params.getlist(name))
            for part in (names[:at], names[at + 1 :])
        )
        for row in self.rows:
            if row.code:
                query = "&".join(part for part in (before, _encoded(self.param, row.code), after) if part)
                row.url = f"{base}?{query}"
        return self


def _encoded(name, value):
    """name=value as QueryDict.urlencode() writes it."""
    return urlencode({name.encode(): str(value).encode()})


# The charts of /stats/ follow the filters that declare one (registry.filters.ProjectFilterSet,
# `chart=`): the track, the country and the city have charts of their own (below); every other
# one-of filter gets one bar per choice, every many-of filter one bar per code.
# (field, choices, chart title, table heading) of each.
OWN_CHARTS = ("track", "hq_country", "hq_city")
ONE_OF = [
    (name, filter_.extra["choices"], filter_.chart, filter_.label)
    for name, filter_ in ProjectFilterSet.charted().items()
    if filter_.kind == filters.ONE_OF and name not in OWN_CHARTS
]
MANY_OF = [
    (name, filter_.extra["choices"], filter_.chart, filter_.label)
    for name, filter_ in ProjectFilterSet.charted().items()
    if filter_.kind == filters.MANY_OF
]

# Every dimension counted (registry.counts): the charted filters' and the headline's: '*' (the
# projects) and 'reviewed' have one value, ''; 'month' is the local month of the first
# publication, 'YYYY-MM'.
DIMENSIONS = (*ProjectFilterSet.charted(), "reviewed", "month")
MANY_OF_DIMENSIONS = frozenset(name for name, *_rest in MANY_OF)


# --- Counting ---------------------------------------------------------------------------


def counted(filterset, dimensions=DIMENSIONS):
    """The Counts (registry.counts) of `filterset`'s projects: the counts PostgreSQL keeps
    when they cover its filters (none, or values of one filter), else counted afresh in
    one query. Either way one query."""
    scopes = counts.scopes_for(filterset)
    if scopes is not None:
        found = counts.read(scopes)
        if found is not None and ("month" not in dimensions or found.time_zone == _time_zone_name()):
            return found
    return count_afresh(filterset.qs, dimensions)


def _time_zone_name():
    current = timezone.get_current_timezone()
    return getattr(current, "key", None) or str(current)


def _dimension_expressions(dimensions):
    """{dimension: the expression grouped by} ('track' always: the projects are its sum)."""
    tz = timezone.get_current_timezone()
    first = Coalesce("first_published_at", "published_at")
    expressions = {
        # a charted filter's column; a many-of column is grouped by every combination of codes
        # held (the stored text ",a,b,"), split into codes afterwards, rather than one LIKE per code
        **{name: F(filter_.column) for name, filter_ in ProjectFilterSet.charted().items()},
        "reviewed": F("verified"),
        "month": ExpressionWrapper(
            ExtractYear(first, tzinfo=tz) * 100 + ExtractMonth(first, tzinfo=tz), output_field=IntegerField()
        ),
    }
    return {name: expressions[name] for name in dict.fromkeys(("track", *dimensions))}


def count_afresh(projects, dimensions=DIMENSIONS):
    """Counts of `projects` by every dimension, in one query: GROUPING SETS on PostgreSQL (one
    pass over the rows), a UNION ALL of GROUP BYs elsewhere."""
    expressions = _dimension_expressions(dimensions)
    names = list(expressions)
    projects = projects.order_by()
    if connection.vendor == "postgresql":
        columns = [f"c{index}" for index in range(len(names))]
        inner = projects.annotate(**dict(zip(columns, expressions.values(), strict=True))).values(*columns)
        sql, params = inner.query.sql_with_params()
        city = columns[names.index("hq_city")] if "hq_city" in names else columns[0]
        grouped = (
            f"SELECT {', '.join(columns)}, GROUPING({', '.join(columns)}), COUNT(*) FROM ({sql}) AS p "
            f"GROUP BY GROUPING SETS ({', '.join(f'({column})' for column in columns)}) "
            f"ORDER BY COUNT(*) DESC, {city}"
        )
        with connection.cursor() as cursor:
            cursor.execute(grouped, params)
            found = cursor.fetchall()
        width = len(names)
        rows = []
        for *values, mask, n in found:
            index = next(i for i in range(width) if not mask & (1 << (width - 1 - i)))
            rows.append((names[index], values[index], n))
    else:
        parts = [projects.filter(verified=True) if name == "reviewed" else projects for name in names]
        parts = [
            part.annotate(
                _dimension=Value(name, output_field=CharField()),
                _value=Value("", output_field=CharField())
                if name == "reviewed"
                else Cast(expression, CharField()),
            )
            .values_list("_dimension", "_value")
            .annotate(_n=Count("pk"))
            for part, (name, expression) in zip(parts, expressions.items(), strict=True)
        ]
        rows = list(parts[0].union(*parts[1:], all=True).order_by("-_n", "_value"))
    return _as_counts(rows)


def _as_counts(rows):
    """Counts from (dimension, grouped value, n) rows, largest n first."""
    found = counts.Counts(time_zone=_time_zone_name())
    dimensions = found.dimensions
    for dimension, value, n in rows:
        if dimension == "reviewed":
            if value in (True, ""):
                dimensions["reviewed"] = [("", n)]
        elif dimension == "month":
            value = int(value)
            dimensions.setdefault("month", []).append((f"{value // 100:04d}-{value % 100:02d}", n))
        elif dimension in MANY_OF_DIMENSIONS:
            codes = [code for code in value.split(SEPARATOR) if code]
            if codes:
                per_code = dict(dimensions.get(dimension, []))
                for code in codes:
                    per_code[code] = per_code.get(code, 0) + n
                dimensions[dimension] = sorted(per_code.items(), key=lambda item: (-item[1], item[0]))
        else:
            dimensions.setdefault(dimension, []).append((str(value), n))
    total = sum(n for _value, n in dimensions.get("track", []))
    if total:
        dimensions["*"] = [("", total)]
    return found


def public_numbers():
    """The headline numbers ({"projects", "countries", "reviewed"}) and {track id: projects}
    of every public project, for the home page: the kept counts (a hundred small rows),
    else one query."""
    found = counts.read([""])
    if found is None:
        found = count_afresh(Project.objects.published(), ("track", "hq_country", "reviewed"))
    numbers = {
        "projects": found.total("*"),
        "countries": countries_in(found),
        "reviewed": found.total("reviewed"),
    }
    return numbers, found.as_dict("track", int)


def track_counts(filterset):
    """{track id: public projects} of `filterset` (kept counts, or one GROUP BY)."""
    return counted(filterset, ("track",)).as_dict("track", int)


# --- Charts -------------------------------------------------------------------------------


def countries_in(found):
    """How many countries and regions the projects are in (an unknown country is none)."""
    return sum(1 for code, _n in found.get("hq_country") if code)


def by_track(found, tracks):
    per_track = found.as_dict("track", int)
    rows = [
        Row(track.name, per_track.get(track.pk, 0), code=track.slug, color=track.color) for track in tracks
    ]
    return Chart("track", _("Projects per track"), _("Track"), rows, param="track")


def by_country(found):
    """The TOP_COUNTRIES countries with most projects, the others summed, then the projects
    whose country is unknown (an editors' listing whose source did not say): never counted
    under any country."""
    per_country = sorted(
        [(code, n) for code, n in found.get("hq_country") if code], key=lambda item: (-item[1], item[0])
    )
    rows = [Row(countries.name(code) or code, n, code=code) for code, n in per_country[:TOP_COUNTRIES]]
    rest = sum(n for _code, n in per_country[TOP_COUNTRIES:])
    if rest:
        rows.append(Row(str(_("Other countries and regions")), rest))
    unknown = found.as_dict("hq_country").get("", 0)
    if unknown:
        rows.append(Row(str(_("Unknown")), unknown))
    return Chart("country", _("Projects per country or region"), _("Country"), rows, param="hq_country")


def by_city(found):
    """The cities in the database's order (most projects first, then by name)."""
    per_city = [(city, n) for city, n in found.get("hq_city") if city != ""][:TOP_CITIES]
    rows = [Row(city, n, code=city) for city, n in per_city]
    return Chart(
        "city",
        _("Top cities"),
        _("City"),
        rows,
        param="hq_city",
        note=_("The ten cities with the most projects; projects without a city are left out."),
    )


def by_one_of(found):
    """One chart per ONE_OF field: every choice in choice order, zeros included, then the
    projects that did not say, if any."""
    charts = []
    for name, choices, title, heading in ONE_OF:
        per_code = found.as_dict(name)
        rows = [Row(str(label), per_code.get(code, 0), code=code) for code, label in choices]
        if per_code.get(""):
            rows.append(Row(str(_("Not given")), per_code[""]))
        charts.append(Chart(name, title, heading, rows, param=name))
    return charts


def by_many_of(found):
    """One chart per MANY_OF field (a project may count under several codes)."""
    note = _("A project can have several, so the numbers can add up to more than the projects counted.")
    charts = []
    for name, choices, title, heading in MANY_OF:
        per_code = found.as_dict(name)
        rows = [Row(str(label), per_code.get(code, 0), code=code) for code, label in choices]
        charts.append(Chart(name, title, heading, rows, param=name, note=note))
    return charts


def month_starts(now, months=MONTHS):
    """The first moment of each of the last `months` months, oldest first, in the current time zone."""
    local = timezone.localtime(now)  # aware, in the current zone (a zoneinfo zone: no pytz pitfalls)
    year, month = local.year, local.month
    starts = []
    for _step in range(months):
        starts.append(datetime(year, month, 1, tzinfo=local.tzinfo))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def by_month(found, now=None):
    """Projects first published in each of the last MONTHS months (local months). Listings
    without a first publication time count from their publication time."""
    starts = month_starts(now or timezone.now())
    per_month = found.as_dict("month")
    rows = [
        Row(
            date_format(start, "YEAR_MONTH_FORMAT"),
            per_month.get(f"{start.year:04d}-{start.month:02d}", 0),
            axis_label=str(start.month),
            # under each January, and under the first column unless a January follows too closely
            year=str(start.year) if start.month == 1 or (index == 0 and start.month <= 10) else "",
        )
        for index, start in enumerate(starts)
    ]
    return Chart("month", _("Published per month"), _("Month"), rows, columns=True)


def project_stats(filterset, tracks, params):
    """The headline numbers and every chart of /stats/ for `filterset`'s projects, laid out,
    rows linked to the list with the current filters. One query (registry.counts or afresh)."""
    found = counted(filterset)
    charts = [
        by_track(found, tracks),
        by_country(found),
        by_city(found),
        *by_one_of(found),
        *by_many_of(found),
        by_month(found),
    ]
    headline = {
        "projects": found.total("*"),
        "countries": countries_in(found),
        "reviewed": found.total("reviewed"),
    }
    return headline, [chart.lay_out().link_rows(params) for chart in charts]
