"""ProjectFilterSet, tested directly: one parameter at a time, then the awkward inputs."""

import re
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from registry.filters import ProjectFilterSet
from registry.models import Project
from tests.base import make_project

pytestmark = pytest.mark.django_db


def names(query):
    filterset = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published())
    return [project.name for project in filterset.qs]


@pytest.fixture
def projects(db):
    return {
        "kefu": make_project(
            name="智能客服机器人", name_en="SmartDesk", tagline="面向电商卖家的客服", track_slug="customer-service",
            hq_country="CN", hq_city="杭州", stage="growth", funding_stage="series_a", team_size="11_50",
            business_models=["subscription", "usage"], target_market="china", customer_types=["smb"],
            foundation_models=["open_source"], modalities=["text", "audio"], seeking=["investment"],
            status="active", founded_year=2021,
        ),
        "med": make_project(
            name="医疗影像助手", name_en="MedScan", tagline="基层医院的影像辅助筛查", track_slug="healthcare",
            hq_country="SG", hq_city="Singapore", stage="launched", funding_stage="seed", team_size="1_10",
            business_models=["license"], target_market="global", customer_types=["enterprise", "government"],
            foundation_models=["self_developed"], modalities=["image"], seeking=["partners", "compute"],
            status="pivoted", founded_year=2018, organization="100% Health_Lab",
        ),
        "code": make_project(
            name="CodePilot", tagline="An AI pair programmer for Python teams", track_slug="coding",
            hq_country="US", hq_city="Seattle", stage="idea", funding_stage="bootstrapped", team_size="1_10",
            business_models=["open_source"], target_market="overseas", customer_types=["developer"],
            foundation_models=["proprietary_api"], modalities=["code"], seeking=["talent"], status="closed",
            founded_year=2024, description="Written in Rust. 支持中文注释。",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("track=customer-service", {"智能客服机器人"}),
        ("track=customer-service&track=coding", {"智能客服机器人", "CodePilot"}),
        ("hq_country=SG", {"医疗影像助手"}),
        ("hq_country=SG&hq_country=US", {"医疗影像助手", "CodePilot"}),
        ("hq_city=seattle", {"CodePilot"}),
        ("stage=growth", {"智能客服机器人"}),
        ("funding_stage=seed", {"医疗影像助手"}),
        ("team_size=1_10", {"医疗影像助手", "CodePilot"}),
        ("business_models=usage", {"智能客服机器人"}),
        ("business_models=license&business_models=open_source", {"医疗影像助手", "CodePilot"}),
        ("target_market=global", {"医疗影像助手"}),
        ("customer_types=government", {"医疗影像助手"}),
        ("foundation_models=open_source", {"智能客服机器人"}),
        ("modalities=code", {"CodePilot"}),
        ("seeking=compute", {"医疗影像助手"}),
        ("status=closed", {"CodePilot"}),
        ("founded_min=2020", {"智能客服机器人", "CodePilot"}),
        ("founded_max=2020", {"医疗影像助手"}),
        ("founded_min=2019&founded_max=2022", {"智能客服机器人"}),
        ("stage=growth&hq_country=CN&modalities=audio", {"智能客服机器人"}),
    ],
)
def test_each_parameter_filters(projects, query, expected):
    assert set(names(query)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("客服", {"智能客服机器人"}),  # two characters, in the name
        ("客服机", {"智能客服机器人"}),  # three
        ("影像辅助", {"医疗影像助手"}),  # four, in the tagline
        ("smartdesk", {"智能客服机器人"}),  # English name, any case
        ("PYTHON", {"CodePilot"}),
        ("rust 中文", {"CodePilot"}),  # mixed scripts, every term must match
        ("100%", {"医疗影像助手"}),  # % is literal
        ("e_l", set()),  # _ is literal: as a wildcard it would match "eal" in Health
        ("Health_Lab", {"医疗影像助手"}),
        ("不存在", set()),
    ],
)
def test_search_finds_substrings(projects, q, expected):
    assert set(names(urlencode({"q": q}))) == expected


def test_name_matches_rank_first(db):
    make_project(name="Other", tagline="A tool for agents")
    make_project(name="Agents Hub", tagline="Something else")
    assert names("q=agents") == ["Agents Hub", "Other"]


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("sort=name", ["CodePilot", "医疗影像助手", "智能客服机器人"]),
        ("sort=founded", ["CodePilot", "智能客服机器人", "医疗影像助手"]),
    ],
)
def test_it_sorts(projects, query, order):
    assert names(query) == order


@pytest.mark.parametrize(
    "query",
    ["stage=unicorn", "track=no-such-track", "founded_min=abc", "founded_max=1e99", "sort=random", "hq_country=XX",
     "modalities=smell", "q=" + "长" * 5000, "q=%27%22%5C%F0%9F%A4%96", "page=-1"],
)  # fmt: skip
def test_bad_values_are_ignored_with_a_message(projects, query):
    filterset = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published())
    assert filterset.qs.count() <= 3
    if not query.startswith(("q=", "page=")):
        assert filterset.ignored_messages()


def test_the_list_page_never_fails_on_bad_input(client, projects):
    for query in [
        "stage=unicorn&track=x",
        "q=%00",
        "founded_min=-1",
        "per_page=1000000",
        "page=99999999999999999999",
    ]:
        assert client.get(f"/projects/?{query}").status_code == 200, query


def test_the_list_page_shows_removable_chips(client, projects):
    response = client.get("/projects/?track=coding&stage=idea", headers={"accept-language": "en"})
    assert response.context["paginator"].count == 1
    chips = response.context["chips"]
    assert [(str(label), str(value)) for label, value, _link in chips] == [
        ("Track", "Coding & developer tools"),
        ("Stage", "Idea"),
    ]
    assert chips[0][2] == "stage=idea"


def test_htmx_requests_get_only_the_results(client, projects):
    response = client.get("/projects/?track=coding", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="results"')
    assert "<html" not in response.text and "CodePilot" in response.text


# What Django's own widgets render for the panel (the template before it was built in one pass).
# A flag (reviewed only) is one switch instead (test_a_flag_is_one_switch_always_in_view).
WIDGET_PANEL = """{% for field in filterset.panel_fields %}{% if field.name != "reviewed" and field.name != "verified_recently" %}
  <details class="filter-group" {% if field.value %}open{% endif %}>
    <summary>{{ field.label }}</summary>
    <div class="filter-options">{{ field }}</div>
  </details>{% endif %}
{% endfor %}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "track=coding&track=agents&stage=idea&hq_country=CN&hq_country=US&business_models=open_source",
        "track=no-such-track&stage=unicorn&hq_country=XX&modalities=smell",  # each ignored, marked invalid
        "track=coding&track=nope&seeking=talent&seeking=compute&status=closed",
        "hq_country=SG&founded_min=2020&q=客服",
    ],
)
def test_the_panel_is_what_djangos_widgets_render(db, language, query):
    """The panel's one-pass markup (names, ids, labels, ticks, aria-invalid, open groups) is
    Django's CheckboxSelectMultiple and SelectMultiple markup, in either language."""
    from django.template import engines
    from django.template.loader import render_to_string
    from django.test.html import parse_html
    from django.utils import translation

    with translation.override(language):
        filterset = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published())
        filterset.is_valid()
        ours = render_to_string("registry/_filter_panel.html", {"filterset": filterset})
        django = engines["django"].from_string(WIDGET_PANEL).render({"filterset": filterset})
    switch = ours[: ours.index("<details")]
    assert 'role="switch" name="reviewed" value="1"' in switch
    assert parse_html(ours[len(switch) :]) == parse_html(django)
    assert ours.count('type="checkbox"') > 50 and ours.count("<option") > 200


@pytest.mark.parametrize(
    ("query", "checked", "invalid"),
    [("", False, False), ("reviewed=1", True, False), ("reviewed=banana", False, True)],
)
def test_a_flag_is_one_switch_always_in_view(db, query, checked, invalid):
    from django.template.loader import render_to_string
    from django.test.html import parse_html

    filterset = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published())
    filterset.is_valid()
    html = render_to_string("registry/_filter_panel.html", {"filterset": filterset})
    switch = html[: html.index("<details")]
    assert "Only projects reviewed by the association" in switch
    assert "<details" not in switch  # never folded away
    box = parse_html(switch[switch.index("<input") : switch.index(">", switch.index("<input")) + 1])
    attributes = dict(box.attributes)
    assert attributes["name"] == "reviewed" and attributes["value"] == "1"
    assert ("checked" in attributes) is checked
    assert ("aria-invalid" in attributes) is invalid


def test_the_track_filter_reads_no_tracks_of_its_own(db, django_assert_num_queries):
    from registry.models import Track

    tracks = list(Track.objects.all())
    filterset = ProjectFilterSet(
        QueryDict("track=coding&track=agents"), queryset=Project.objects.all(), tracks=tracks
    )
    with django_assert_num_queries(0):
        assert filterset.form.is_valid()
        assert [track.slug for track in filterset.form.cleaned_data["track"]] == [
            "agents",
            "coding",
        ]  # tracks' order
        filterset.panel()
    unused = ProjectFilterSet(QueryDict("stage=idea"), queryset=Project.objects.all())
    with django_assert_num_queries(0):  # no track asked for: the tracks are not read
        assert unused.form.is_valid()


def test_the_panel_template_ticks_the_given_options_and_marks_a_group_not_understood(client, projects):
    """registry/_filter_panel.html writes each option itself: ticked (or selected) when given,
    every checkbox of a group with a value not understood aria-invalid, that group open."""
    text = client.get("/projects/?stage=growth&seeking=talent&seeking=smell&hq_country=SG").text
    assert re.search(r'<input type="checkbox" name="stage" value="growth" id="id_stage_3" checked>', text)
    assert re.search(r'<input type="checkbox" name="stage" value="idea" id="id_stage_0">', text)
    assert len(re.findall(r'name="seeking" value="[a-z_]+" aria-invalid="true"', text)) == 6
    assert 'name="stage" value="idea" aria-invalid' not in text  # only the group not understood
    assert '<option value="SG" selected>' in text and '<option value="CN">' in text
    assert '<label for="id_stage_3">' in text
    open_groups = re.findall(r'<details class="filter-group" open>\s*<summary>([^<]+)</summary>', text)
    assert len(open_groups) == 3  # stage, seeking, country


def test_the_form_fields_outside_the_panel_are_djangos_widgets_with_our_attributes(client, projects):
    text = client.get(
        "/projects/?q=%3Cb%3E&sort=name&founded_min=2020", headers={"accept-language": "en"}
    ).text
    assert re.search(
        r'<input type="search" name="q" value="&lt;b&gt;" class="form-control form-control-sm" '
        r'placeholder="Search names, taglines, descriptions…" maxlength="100" id="id_q">',
        text,
    )
    assert '<select name="sort" class="form-select form-select-sm" id="id_sort">' in text
    assert '<option value="name" selected>Name</option>' in text
    assert re.search(r'<input type="number" name="founded_min" value="2020"[^>]* id="id_founded_min">', text)
