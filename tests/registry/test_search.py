"""registry.search: the tokens, and on PostgreSQL the index that answers every query length."""

import pytest
from django.db import connection
from django.db.models import Q

from registry.models import Project
from registry.search import SEARCH_FIELDS, _tsquery, document, exact, matching, tokens
from tests.base import make_project


def test_chinese_gives_characters_and_pairs():
    assert tokens("智能客服") == {"智", "能", "客", "服", "智能", "能客", "客服"}


def test_other_words_give_every_suffix_in_lower_case():
    assert tokens("OpenAI v2") == {"openai", "penai", "enai", "nai", "ai", "i", "v2", "2"}


def test_mixed_scripts_split_where_the_script_changes():
    assert {"gpt", "客服", "4o"} <= tokens("GPT客服 4o")


def test_punctuation_and_symbols_give_no_tokens():
    assert tokens("%_'\"\\ 🤖 ---") == set()


def test_queries_need_every_pair_of_a_chinese_term_and_a_prefix_of_a_word():
    assert _tsquery("客服机") == "'客服' & '服机'"
    assert _tsquery("Pen") == "'pen':*"
    assert _tsquery("it's") == "'it':* & 's':*"
    assert _tsquery("%%") is None


@pytest.mark.django_db
def test_the_tokens_are_kept_up_to_date_on_every_save():
    project = make_project(name="灵犀", tagline="Support bots")
    assert "灵犀" in project.search_tokens.split() and "bots" in project.search_tokens.split()
    project.tagline = "Voice agents"
    project.save()
    project.refresh_from_db()
    assert "voice" in project.search_tokens.split() and "bots" not in project.search_tokens.split()
    assert project.search_tokens == document(project)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "found"),
    [("客", True), ("客服", True), ("客服机", True), ("智能客服机器人", True), ("服客", False),
     ("pen", True), ("OPENAI", True), ("penal", False), ("100%", True), ("0%", True), ("%", True), ("_", False)],
)  # fmt: skip
def test_matching_finds_substrings_only(query, found):
    make_project(name="智能客服机器人", name_en="OpenAI helper", tagline="100% uptime")
    assert matching(Project.objects.all(), query).exists() is found


@pytest.mark.django_db
def test_postgresql_answers_short_chinese_queries_from_the_gin_index():
    if connection.vendor != "postgresql":
        pytest.skip("the index exists on PostgreSQL only; SQLite scans")
    for n in range(50):
        make_project(name=f"项目{n}", tagline="工业质检")
    make_project(name="智能客服机器人")
    queryset = matching(Project.objects.order_by(), "客服")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner show its choice
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "registry_project_search_gin" in plan
    assert [project.name for project in queryset] == ["智能客服机器人"]


def test_long_words_give_short_tokens():
    assert max(len(token) for token in tokens("x" * 5000)) == 32
    assert len(tokens("y" * 5000)) <= 24


@pytest.mark.django_db
def test_a_very_long_word_is_stored_and_found():
    make_project(description="z" * 5000)
    assert matching(Project.objects.all(), "z" * 40).exists()


@pytest.mark.parametrize(
    ("term", "is_exact"),
    [("客", True), ("客服", True), ("客服机", False), ("G客", False), ("pen", True), ("OpenAI", True), ("4o", True),
     ("gpt-4", False), ("it's", False), ("café", False), ("\u212a", False), ("a" * 32, True), ("a" * 33, False),
     ("%", False), ("_", False)],
)  # fmt: skip
def test_a_term_is_exact_when_its_tokens_say_whether_a_field_contains_it(term, is_exact):
    """One or two CJK characters, or one ASCII word of letters and digits no longer than a
    token; "K" is the Kelvin sign, which Python's case folding makes an ASCII k."""
    assert exact(term) is is_exact


SCAN_TEXTS = [
    {"name": "智能客服机器人", "name_en": "OpenAI helper", "tagline": "100% uptime"},
    {"name": "客服外呼智能体", "name_en": "Outbound Caller", "organization": "OPENAI Partners Ltd."},
    {
        "name": "Pen Pal",
        "tagline": "An open-ai pen pal for kids",
        "description": "GPT客服 4o, gpt-4 and more.",
    },
    {"name": "服务客户", "tagline": "机器学习平台", "description": "Written in Rust; 支持中文注释。"},
    {"name": "Happen", "name_en": "HAPPEN", "description": "A penalty-free helper for penguins."},
    {"name": "语音助手", "tagline": "Voice assistant", "description": "语音识别与语音合成"},
    {"name": "Draftsman", "tagline": "Assistants for 4o and o1 users", "organization": "Kelvin & Co"},
]
SCAN_TERMS = ["客", "客服", "服客", "机器", "语音", "音", "智能客服", "pen", "PEN", "OpenAI", "ai", "4o", "o1", "gpt",
              "gpt-4", "helper", "assistant", "Assistants", "penguins", "kelvin", "rust", "100", "zzz", "人"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("term", SCAN_TERMS)
def test_matching_finds_exactly_what_the_substring_scan_finds(term):
    """On PostgreSQL exact terms are answered from the index alone and CJK terms confirmed
    case-sensitively: the rows are still those a plain `icontains` over every searched field
    finds (on SQLite `matching` is that scan)."""
    for fields in SCAN_TEXTS:
        make_project(**fields)
    scan = Q()
    for field in SEARCH_FIELDS:
        scan |= Q(**{f"{field}__icontains": term})
    expected = set(Project.objects.filter(scan).values_list("name", flat=True))
    assert set(matching(Project.objects.all(), term).values_list("name", flat=True)) == expected


@pytest.mark.django_db
def test_postgresql_confirms_only_the_terms_the_index_cannot_answer_alone():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite scans with icontains")
    sql = {
        term: str(matching(Project.objects.all(), term).query)
        for term in ["客服", "assistant", "客服机", "gpt-4"]
    }
    assert "LIKE" not in sql["客服"] and "LIKE" not in sql["assistant"]
    assert "LIKE" in sql["客服机"] and "UPPER" not in sql["客服机"]  # CJK has no case
    assert "UPPER" in sql["gpt-4"]


@pytest.mark.django_db
def test_chinese_name_matches_rank_first():
    from django.http import QueryDict

    from registry.filters import ProjectFilterSet

    make_project(name="别的项目", tagline="语音识别")
    make_project(name="语音助手", tagline="别的")
    filterset = ProjectFilterSet(QueryDict("q=语音"), queryset=Project.objects.published())
    assert [project.name for project in filterset.qs] == ["语音助手", "别的项目"]


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["", "newest", "name", "founded"])
def test_a_search_lists_its_matches_in_the_order_asked_for_page_by_page(client, settings, sort):
    """The pass that counts the matches orders them without an index (views.Unindexed):
    the same projects, in the same order, on every page, as the ORM's own ordering."""
    from datetime import timedelta

    from django.http import QueryDict
    from django.utils import timezone

    from registry.filters import ProjectFilterSet

    settings.PROJECTS_PER_PAGE = 4
    now = timezone.now()
    for n in range(11):
        make_project(
            name=f"{'语音' if n % 3 == 0 else ''}项目 {chr(ord('K') - n)}",
            tagline="语音客服" if n % 2 else "客服",
            founded_year=2015 + n % 4 if n % 5 else None,
            published_at=now - timedelta(days=n % 4, minutes=n),
        )
    make_project(name="别的", tagline="无关")
    query = f"q=客服&sort={sort}" if sort else "q=客服"
    expected = [p.slug for p in ProjectFilterSet(QueryDict(query), queryset=Project.objects.published()).qs]
    assert len(expected) == 11

    shown = []
    for number in (1, 2, 3):
        response = client.get(f"/projects/?{query}&page={number}")
        assert response.context["paginator"].count == 11
        shown += [project.slug for project in response.context["page"].object_list]
    assert shown == expected


@pytest.mark.django_db
def test_postgresql_cannot_order_the_counting_pass_from_an_index():
    from registry.views import unindexed_ordering

    sql = str(unindexed_ordering(Project.objects.order_by("-published_at", "name", "-pk")).query)
    if connection.vendor == "postgresql":
        assert "+ interval '0 seconds') DESC" in sql and "|| ''" in sql and "+ 0) DESC" in sql
    else:
        assert 'ORDER BY "registry_project"."published_at" DESC, "registry_project"."name" ASC' in sql
