"""registry.search: the tokens, and on PostgreSQL the index that answers every query length."""

import pytest
from django.db import connection

from registry.models import Project
from registry.search import _tsquery, document, matching, tokens
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
