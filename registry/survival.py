"""Survival by cohort: what became of the public projects, grouped by the year they were
first listed on the map. /stats/, /api/stats/survival/ and /data/survival.csv all read the
Survival that `survival()` gives, so the three never disagree.

One query: the projects (a queryset of `Project.objects.published()`; the views pass the
list's ProjectFilterSet's, so the list's filters apply) grouped by (cohort year, track,
status, months to closure or NULL) and counted. Everything else (the all-tracks figures,
the shares, the medians, the bars' geometry) is worked out here from those rows: a few
hundred at most, whatever the number of projects.

- The cohort is the year of `first_published_at` in the site's time zone; a listing
  without one (published before the field existed) counts from `published_at`, as the
  months of /stats/ do (registry.stats).
- Months to closure, for a closed project: the whole months from the local day it was
  first listed to `status_since`, counted as an age is (listed on 15 January, closed on
  14 March: 1 month; on 15 March: 2). A project that closed before it was listed (an
  editors' listing of a project already gone) counts 0. A closed listing without a date
  counts as closed but not in the median.
- The median of an even number of closures is the mean of the two middle ones (7.5).
- Shares are of the cohort's projects: fractions to four places in the API, whole
  percentages on the page, rounded so that a cohort's add up to 100.
"""

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Value, When
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from registry.listing import Status

STATUSES = tuple(status.value for status in Status)  # the bars' order: active first, closed last
CSV_COLUMNS = ("cohort", "track", "total", *STATUSES, "median_months_to_closure")
ALL_TRACKS = ""  # the track cell of the CSV's all-tracks rows

# The stacked bars (SVG user units): the cohort's label above each bar, the shares inside it.
WIDTH = 640
ROW_HEIGHT = 60
BAR_HEIGHT = 26
BAR_TOP = 22  # room for the label above the first bar
MIN_TEXT_WIDTH = 44  # a segment narrower than this shows no percentage (the table does)


# --- Counting ---------------------------------------------------------------------------


def _expressions():
    """{name: expression} grouped by, besides the track and the status."""
    tz = timezone.get_current_timezone()
    first = Coalesce("first_published_at", "published_at")

    def months(year, month):
        return year * 12 + month

    whole_months = (
        months(ExtractYear("status_since"), ExtractMonth("status_since"))
        - months(ExtractYear(first, tzinfo=tz), ExtractMonth(first, tzinfo=tz))
        # not yet the day of the month it was listed on: that month is not complete
        - Case(
            When(GreaterThan(ExtractDay(first, tzinfo=tz), ExtractDay("status_since")), then=Value(1)),
            default=Value(0),
        )
    )
    return {
        "cohort": ExtractYear(first, tzinfo=tz),
        "months": Case(
            When(status=Status.CLOSED, status_since__isnull=False, then=whole_months),
            default=None,
            output_field=IntegerField(),
        ),
    }


# The survival figures are a GROUP BY over every public project (about 150 ms at 100,000):
# kept in the cache a minute at most, and forgotten at once when public data changes in this
# process or, with a shared cache (Redis), in any (the version moves). Without a shared
# cache another process's figures may be up to CACHE_SECONDS behind a change, as a
# scheduled publication may be everywhere.
CACHE_SECONDS = 60
VERSION_KEY = "aimap:survival-version"


def changed():
    """Public data changed: forget every kept figure now, and again once the transaction
    commits (a reader in between may have kept the figures of before the commit)
    (registry.published.changed calls it)."""
    _bump()
    transaction.on_commit(_bump)


def _bump():
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there (evicted or never read): any fresh number will do
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def _cache_key(params):
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    query = "&".join(sorted(f"{name}={value}" for name in params for value in params.getlist(name)
                            if name not in ("page", "per_page", "sort")))  # fmt: skip
    digest = hashlib.blake2b(
        f"{timezone.get_current_timezone_name()}|{query}".encode(), digest_size=12
    ).hexdigest()
    return f"aimap:survival:{version}:{digest}"


def section_key(params, tracks):
    """The key /stats/ keeps its survival section under (a fragment of the page): the same
    version and filters as the figures, and the tracks it names (a renamed track shows at
    once), so a kept section never needs the figures worked out."""
    names = "|".join(f"{track.pk}:{track.slug}:{track.name}" for track in tracks)
    digest = hashlib.blake2b(names.encode(), digest_size=8).hexdigest()
    return _cache_key(params).replace("aimap:survival:", "section:", 1) + ":" + digest


def counted_rows(projects):
    """(cohort, track id, status, months to closure or None, n) of `projects`: one query."""
    return (
        projects.order_by()
        .annotate(**{f"_{name}": expression for name, expression in _expressions().items()})
        .values_list("_cohort", "track_id", "status", "_months")
        .annotate(_n=Count("pk"))
    )


def survival(projects, tracks, params=None):
    """The Survival of `projects` (public ones: a queryset of `Project.objects.published()`),
    its per-track figures over `tracks` (every track, in display order). One query, or none:
    `params` (the request's query, which selected `projects`) keys the counted rows in the
    cache for CACHE_SECONDS, under a version every write to public data moves (changed())."""
    key = _cache_key(params) if params is not None else None
    rows = cache.get(key) if key else None
    if rows is None:
        rows = list(counted_rows(projects))
        if key:
            cache.set(key, rows, CACHE_SECONDS)
    cohorts = {}
    for year, track_id, status, months, n in rows:
        cohort = cohorts.get(year)
        if cohort is None:
            cohort = cohorts[year] = Cohort(int(year))
        cohort.add(track_id, status, months, n)
    ordered = sorted(cohorts.values(), key=lambda cohort: cohort.year)
    return Survival(ordered, list(tracks), timezone.get_current_timezone_name()).lay_out()


# --- Figures ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Projects by status, and the closed ones by months to closure."""

    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    months: Counter = field(default_factory=Counter)

    def add(self, status, months, n):
        if status in self.counts:  # a status no longer declared is not counted
            self.counts[status] += n
            if status == Status.CLOSED and months is not None:
                self.months[max(int(months), 0)] += n

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def active(self):
        return self.counts[Status.ACTIVE]

    @property
    def shares(self):
        """{status: fraction of the projects, to four places}; None without projects."""
        total = self.total
        return {status: round(n / total, 4) for status, n in self.counts.items()} if total else None

    @property
    def percents(self):
        """{status: whole percentage}, adding up to 100 (largest remainders); {} without projects."""
        total = self.total
        if not total:
            return {}
        exact = {status: n * 100 / total for status, n in self.counts.items()}
        whole = {status: int(value) for status, value in exact.items()}
        by_remainder = sorted(STATUSES, key=lambda status: whole[status] - exact[status])
        for status in by_remainder[: 100 - sum(whole.values())]:
            whole[status] += 1
        return whole

    @property
    def median_months(self):
        """The median months to closure of the closed projects (an int, or a float ending in .5
        for an even number of closures whose middle ones differ), or None without closures."""
        total = sum(self.months.values())
        if not total:
            return None
        middle = sorted({(total - 1) // 2, total // 2})
        found, seen = [], 0
        for months in sorted(self.months):
            before, seen = seen, seen + self.months[months]
            found += [months for index in middle if before <= index < seen]
        median = sum(found) / len(found)
        return int(median) if median.is_integer() else median

    def record(self):
        """The figures as the API gives them."""
        return {
            "total": self.total,
            "counts": dict(self.counts),
            "shares": self.shares,
            "median_months_to_closure": self.median_months,
        }

    def csv_cells(self):
        """total, the statuses' counts, the median months (empty without closures)."""
        median = self.median_months
        return [self.total, *self.counts.values(), "" if median is None else median]


@dataclass
class Segment:
    """One status's part of a cohort's bar."""

    status: str
    label: str
    n: int
    percent: int
    x: float = 0
    width: float = 0
    text_x: float = 0
    show_percent: bool = False


@dataclass
class Cohort:
    year: int
    tally: Tally = field(default_factory=Tally)  # every track
    per_track: dict = field(default_factory=dict)  # {track id: Tally}
    # geometry, filled in by Survival.lay_out
    segments: list = field(default_factory=list)
    y: float = 0
    label_y: float = 0
    text_y: float = 0

    def add(self, track_id, status, months, n):
        self.tally.add(status, months, n)
        self.per_track.setdefault(track_id, Tally()).add(status, months, n)

    def of_track(self, track):
        return self.per_track.get(track.pk) or Tally()


@dataclass
class TrackRow:
    """A row of the page's per-track table: a track and its Tally in each cohort."""

    track: object
    cells: list  # [(cohort year, Tally)]


@dataclass
class Survival:
    cohorts: list  # [Cohort], oldest first
    tracks: list  # every track, in display order
    time_zone: str  # the zone whose years the cohorts are

    @property
    def is_empty(self):
        return not self.cohorts

    @property
    def width(self):
        return WIDTH

    @property
    def bar_height(self):
        return BAR_HEIGHT

    @property
    def height(self):
        return BAR_TOP + len(self.cohorts) * ROW_HEIGHT - (ROW_HEIGHT - BAR_HEIGHT) + 2

    def lay_out(self):
        labels = dict(Status.choices)
        for index, cohort in enumerate(self.cohorts):
            cohort.y = BAR_TOP + index * ROW_HEIGHT
            cohort.label_y = cohort.y - 6  # the label above the bar
            cohort.text_y = cohort.y + BAR_HEIGHT / 2 + 5  # the percentages inside it
            total, x = cohort.tally.total, 0.0
            percents = cohort.tally.percents
            cohort.segments = []
            for status in STATUSES:
                n = cohort.tally.counts[status]
                # a share is always at least a sliver, so it is not mistaken for none
                width = max(round(n / total * WIDTH, 1), 2) if n else 0
                width = min(width, round(WIDTH - x, 1))
                cohort.segments.append(
                    Segment(
                        status,
                        str(labels[status]),
                        n,
                        percents[status],
                        x=round(x, 1),
                        width=width,
                        text_x=round(x + width / 2, 1),
                        show_percent=width >= MIN_TEXT_WIDTH,
                    )
                )
                x += width
        return self

    def track_rows(self):
        """The page's per-track table: the tracks with projects in some cohort, in order."""
        used = {track_id for cohort in self.cohorts for track_id in cohort.per_track}
        return [
            TrackRow(track, [(cohort.year, cohort.of_track(track)) for cohort in self.cohorts])
            for track in self.tracks
            if track.pk in used
        ]

    def record(self):
        """The cohorts as the API gives them: every track in each, zeros included."""
        return [
            {
                "year": cohort.year,
                **cohort.tally.record(),
                "tracks": [{"track": track.slug, **cohort.of_track(track).record()} for track in self.tracks],
            }
            for cohort in self.cohorts
        ]

    def csv_rows(self):
        """The CSV's rows (CSV_COLUMNS): per cohort, all tracks first (track ""), then every
        track, zeros included."""
        rows = []
        for cohort in self.cohorts:
            rows.append([cohort.year, ALL_TRACKS, *cohort.tally.csv_cells()])
            rows += [[cohort.year, track.slug, *cohort.of_track(track).csv_cells()] for track in self.tracks]
        return rows
