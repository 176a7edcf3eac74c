"""Fuzzing with Hypothesis: no input makes a server error, and no input puts a submission
in the database that breaks the schema's rules.

(a) Every filter parameter of the list (ProjectFilterSet's, the page and page size, the
    API's page size, unknown ones), each with valid codes, arbitrary Unicode, lists of
    values, huge and odd numbers, NUL bytes, SQL and LIKE metacharacters and very long
    strings, sent to /projects/, /map/, /stats/, /api/projects/ and /data/projects.csv
    (read to its end: the rows are made while it streams): 200, 400 or 404, never a 500.
(b) The founder's submission form, posted by a logged-in founder with arbitrary values for
    every field (several values for one-of fields, unknown codes and track ids for many-of
    ones, files that are and are not images, any button): 200 or 302; and every submission
    that reaches the database passes the model's field rules, the secondary-track rule, has
    no NUL, a re-encoded logo, and is complete if it was submitted.

At least 1,000 examples each (`EXAMPLES`). Hypothesis keeps no example database, and its
caches go to the temporary directory, not into the repository; a failure prints the
smallest input that shows it.
"""

import io
import string
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

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
    secondary_track_errors,
)
from registry.models import Track
from review.forms import CONTENT_FIELDS
from review.models import Submission
from review.workflow import missing_for_submission
from tests.base import make_project
from tests.imagefiles import plain, png_declaring, truncated
from tests.security.helpers import body

pytestmark = pytest.mark.django_db

# Hypothesis keeps caches (Unicode tables, constants read from the code) in .hypothesis/ under
# the working directory: outside the repository instead. No example database at all.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "aimap-hypothesis")

EXAMPLES = 1000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

CHOICES = {
    "stage": Stage.values,
    "funding_stage": FundingStage.values,
    "team_size": TeamSize.values,
    "target_market": TargetMarket.values,
    "status": Status.values,
    "business_models": BusinessModel.values,
    "customer_types": CustomerType.values,
    "foundation_models": FoundationModel.values,
    "modalities": Modality.values,
    "seeking": Seeking.values,
    "hq_country": ["CN", "US", "SG", "cn", "XX", "ZZZ"],
    "sort": ["newest", "name", "founded", "-name"],
    "track": ["agents", "customer-service", "coding", "AGENTS", "no-such-track"],
    "per_page": ["24", "48", "96", "25", "0"],
    "page": ["1", "2", "0", "-1", "last"],
    "page_size": ["1", "50", "200", "201", "0"],
    "founded_min": ["1900", "2015", "2100", "2101"],
    "founded_max": ["1899", "2020", "2100"],
    "hq_city": ["杭州", "Singapore", "hangzhou"],
    "q": ["客服", "ai", "AI 客服", "%", "_", "\\"],
}
FILTER_PARAMETERS = sorted(CHOICES)
ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "' OR 1=1 --",
    '"; DROP TABLE registry_project; --',
    "%",
    "_",
    "%_%",
    "\\",
    "\\x00",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "1e-400",
    "0x10",
    "１２",
    "²",
    "٣",
    "9" * 5000,
    "1.5",
    "-0",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "客服" * 60,
    "<script>alert(1)</script>",
    "a:*",
    "a & b | !c",
    "'':*",
    "\t\r\n",
    "null",
    "None",
    "[]",
    "{}",
]


# Very long values, made once (generating thousands of characters per example would be most
# of the fuzzing's cost): over every max_length of the schema and MAX_QUERY_LENGTH.
LONG = ["a" * 101, "客服 " * 60, "x" * 201, "长" * 5001, "y " * 3000, "%" * 4000, "\x00" * 300, "9" * 10000]


def value_for(name):
    return st.one_of(
        st.sampled_from(CHOICES.get(name, ["x"])),
        st.text(max_size=40),
        st.sampled_from(ODD),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.sampled_from(LONG),
        st.text(min_size=40, max_size=300),
    )


parameters = st.dictionaries(
    keys=st.one_of(st.sampled_from(FILTER_PARAMETERS), st.text(max_size=12)),
    values=st.lists(value_for("x"), min_size=0, max_size=3),
    max_size=6,
)


@st.composite
def queries(draw):
    """A query of some parameters, each with one value or several."""
    chosen = draw(st.lists(st.sampled_from(FILTER_PARAMETERS), unique=True, max_size=8))
    query = {name: draw(st.lists(value_for(name), min_size=1, max_size=3)) for name in chosen}
    extra = draw(parameters)
    for name, values in extra.items():
        query.setdefault(name, values)
    return query


# Two groups of targets, fuzzed in two tests of EXAMPLES examples each (they run side by
# side under pytest-xdist): every example is sent to every URL of its group.
LIST_TARGETS = ["/projects/", "/api/projects/", "/data/projects.csv"]
CHART_TARGETS = ["/map/", "/stats/"]


@pytest.fixture
def public(db):
    """A few published projects across tracks and values, for the filters to find."""
    make_project(
        name="灵犀客服",
        name_en="Lingxi",
        tagline="面向电商卖家的智能客服 AI",
        track_slug="customer-service",
        secondary=("agents",),
        stage="launched",
        funding_stage="seed",
        team_size="11_50",
        business_models=["subscription", "usage"],
        customer_types=["smb"],
        foundation_models=["open_source"],
        modalities=["text", "audio"],
        seeking=["investment"],
        target_market="china",
        hq_city="杭州",
        hq_country="CN",
        founded_year=2021,
    )
    make_project(name="Coder", track_slug="coding", hq_country="SG", hq_city="Singapore", founded_year=2019)
    make_project(name="Agent 100%_x", track_slug="agents", status="closed", hq_country="US")
    make_project(name="Draft", published=False)


def fuzz_filters(client, targets):
    seen = {"examples": 0, "requests": 0}

    @FUZZ
    @given(query=queries())
    def run(query):
        for target in targets:
            response = client.get(target, query)
            # 414: an address over the filters' bounds (registry.middleware), said plainly
            assert response.status_code in (200, 400, 404, 414), (target, query, response.status_code)
            body(response)  # a streamed download is made while it is read
            seen["requests"] += 1
        seen["examples"] += 1

    run()
    print(f"\nfuzzed filters: {seen['examples']} examples x {targets} = {seen['requests']} requests")
    assert seen["examples"] >= EXAMPLES


def test_no_filter_input_makes_a_server_error_in_the_list_the_api_or_the_csv(client, public):
    fuzz_filters(client, LIST_TARGETS)


def test_no_filter_input_makes_a_server_error_on_the_map_or_the_statistics(client, public):
    fuzz_filters(client, CHART_TARGETS)


# --- (b) The submission form -----------------------------------------------------------------

TEXT_FIELDS = ["name", "name_en", "tagline", "description", "organization", "hq_city", "models_used",
               "status_evidence", "acquired_by"]  # fmt: skip
ONE_OF = ["stage", "funding_stage", "team_size", "target_market", "status", "hq_country"]
MANY_OF = ["business_models", "customer_types", "foundation_models", "modalities", "seeking"]


def text_value():
    return st.one_of(
        st.text(max_size=60),
        st.text(min_size=60, max_size=300),
        st.sampled_from(ODD),
        st.sampled_from(LONG),
        st.text(alphabet=string.printable, max_size=200),
    )


def png(size):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0891b2").save(buffer, "PNG")
    return buffer.getvalue()


LOGOS = [
    png((64, 64)),
    png((10, 10)),
    plain("JPEG", size=(80, 80)),
    plain("GIF", size=(80, 80)),
    truncated(png((128, 128))),
    png_declaring(60000, 60000),
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>",
    b"",
]


@st.composite
def logos(draw):
    content = draw(st.one_of(st.sampled_from(LOGOS), st.binary(max_size=300)))
    name = draw(st.sampled_from(["logo.png", "../../etc/passwd", "logo.svg", "x.php.png", "无.webp", ""]))
    return SimpleUploadedFile(
        name or "logo", content, content_type=draw(st.sampled_from(["image/png", "text/html"]))
    )


def one_or_several(strategy):
    return st.one_of(strategy, st.lists(strategy, min_size=0, max_size=3))


def complete():
    """A form that submits as it is: the base the mutated examples start from."""
    return {
        "name": "灵犀客服",
        "tagline": "面向电商卖家的智能客服机器人",
        "description": "第一段。\n\n第二段。",
        "track": str(Track.objects.get(slug="customer-service").pk),
        "hq_city": "杭州",
        "hq_country": "CN",
        "status": "active",
    }


@st.composite
def submissions(draw):
    """Half the examples: any subset of the fields with any values. The other half: a
    complete form, half the time with a file, with up to three fields changed or left out,
    so that many examples get through the form to the database (drafts and submitted ones,
    with logos)."""
    track_ids = [str(pk) for pk in Track.objects.values_list("pk", flat=True)]
    ids = st.one_of(st.sampled_from(track_ids), st.integers(-5, 10**12).map(str), st.sampled_from(ODD))
    fields = {
        **{name: one_or_several(text_value()) for name in TEXT_FIELDS},
        "track": one_or_several(ids),
        "secondary_tracks": st.lists(ids, max_size=4),
        **{name: one_or_several(st.one_of(st.sampled_from(CHOICES[name]), text_value())) for name in ONE_OF},
        **{
            name: st.lists(st.one_of(st.sampled_from(CHOICES[name]), text_value()), max_size=5)
            for name in MANY_OF
        },
        "website": one_or_several(
            st.one_of(
                st.sampled_from(
                    [
                        "https://example.com/",
                        "http://例子.测试/",
                        "javascript:alert(1)",
                        "ftp://example.com/",
                        "//evil.example",
                        "https://" + "a" * 300 + ".example/",
                    ]
                ),
                text_value(),
                st.text(max_size=40).map(lambda text: f"https://example.com/{text}"),
            )
        ),
        "founded_year": one_or_several(
            st.one_of(
                st.integers(-(10**20), 10**20).map(str),
                st.sampled_from(["2020", "1989", "1990"]),
                text_value(),
            )
        ),
        "status_since": one_or_several(
            st.one_of(
                st.dates().map(str), st.sampled_from(["2025-02-30", "9999-12-31", "0001-01-01"]), text_value()
            )
        ),
        **{
            name: one_or_several(
                st.one_of(st.sampled_from(["", "https://x.example/projects/nope/"]), text_value())
            )
            for name in ("acquirer", "successor")
        },
        "contact_email": one_or_several(st.one_of(st.emails(), text_value())),
        "show_contact_email": one_or_several(st.sampled_from(["on", "true", "1", "0", "false", "", "\x00"])),
        "logo": logos(),
        "logo-clear": st.sampled_from(["on", "", "\x00"]),
        "version": one_or_several(st.one_of(st.integers(-(10**20), 10**20).map(str), text_value())),
        "action": one_or_several(st.sampled_from(["save", "submit", "", "publish", "\x00"])),
    }
    assert set(CONTENT_FIELDS) <= set(fields), set(CONTENT_FIELDS) - set(fields)
    if draw(st.booleans()):
        data = draw(st.fixed_dictionaries({}, optional=fields))
    else:
        data = {**complete(), "action": draw(st.sampled_from(["submit", "save"]))}
        if draw(st.booleans()):
            data["logo"] = draw(logos())
        for name in draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=3)):
            if draw(st.booleans()):
                data[name] = draw(fields[name])
            else:
                data.pop(name, None)
    extra = draw(
        st.dictionaries(st.sampled_from(["owner", "state", "kind", "project", "slug", "id"]), text_value())
    )
    return {**extra, **data}


NOT_FOR_DRAFTS = {"blank", "null", "required"}


def check_schema(submission):
    """The rules every stored submission keeps, whatever was posted."""
    where = f"submission {submission.pk} ({submission.state})"
    assert submission.state in (Submission.State.DRAFT, Submission.State.SUBMITTED), where
    assert submission.kind == Submission.Kind.NEW and submission.project_id is None, where
    secondary = list(submission.secondary_tracks.all())
    assert not secondary_track_errors(submission.track, secondary), where
    try:
        submission.clean_fields(exclude=["logo"])
    except ValidationError as error:
        problems = {name: {problem.code for problem in errors} for name, errors in error.error_dict.items()}
        allowed = NOT_FOR_DRAFTS if submission.state == Submission.State.DRAFT else set()
        assert all(codes <= allowed for codes in problems.values()), (where, error.message_dict)
    for name in [*TEXT_FIELDS, "website", "contact_email"]:
        assert "\x00" not in getattr(submission, name), (where, name)
    if submission.state == Submission.State.SUBMITTED:
        assert not missing_for_submission(submission), where
    if submission.logo:
        assert submission.logo.name.startswith("logos/") and submission.logo.name.endswith(".webp"), where
        with Image.open(submission.logo) as stored:
            assert stored.format == "WEBP", where


def test_no_submission_form_input_makes_a_server_error_or_a_bad_row(founder_client, settings):
    settings.MAX_OPEN_DRAFTS = 10**6
    settings.MAX_SUBMISSIONS_PER_DAY = 10**6
    url = reverse("review:submission-new")
    seen = {"examples": 0, "saved": 0, "submitted": 0, "with a logo": 0}

    @FUZZ
    @given(data=submissions())
    def run(data):
        last = Submission.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = founder_client.post(url, data)
        assert response.status_code in (200, 302), (data, response.status_code)
        for submission in Submission.objects.filter(pk__gt=last):
            check_schema(submission)
            seen["saved"] += 1
            seen["submitted"] += submission.state == Submission.State.SUBMITTED
            seen["with a logo"] += bool(submission.logo)
        seen["examples"] += 1

    run()
    print(f"\nfuzzed the submission form: {seen}")
    assert seen["examples"] >= EXAMPLES
    assert seen["saved"] and seen["submitted"]  # the fuzzing reached the database, both ways
