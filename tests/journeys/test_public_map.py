"""A visitor narrows the list without a page reload, explores the map, opens a project and
reads it in English; nothing the browser refuses (CSP) along the way.

Full-page screenshots go to tests/journeys/screenshots/public-*.png (not committed).
"""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.base import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"

# (track, name, English name, tagline): four projects in each of three tracks; only two
# hold 客服 in a searched field, one of them outside the customer-service track.
CATALOGUE = [
    ("customer-service", "智能客服机器人", "Smart Support Bot", "全天候回答网店顾客的问题"),
    ("customer-service", "灵犀对话", "Lingxi Dialogue", "为银行做的语音应答"),
    ("customer-service", "晓声语音", "Xiaosheng Voice", "呼叫中心的语音机器人"),
    ("customer-service", "云问答", "Cloud Answers", "企业知识库问答"),
    ("agents", "客服外呼智能体", "Outbound Caller", "替销售团队打电话"),
    ("agents", "行者智能体", "Walker Agent", "帮你订机票和酒店的助理"),
    ("agents", "万象助理", "Vista Assistant", "在电脑上替你点按钮"),
    ("agents", "星图规划", "Star Planner", "把目标拆成任务并执行"),
    ("coding", "码上助手", "Code Buddy", "开发环境里的编程助手"),
    ("coding", "测试精灵", "Test Sprite", "自动写单元测试"),
    ("coding", "深码审查", "Deep Review", "代码审查机器人"),
    ("coding", "开源云编译", "Open Build Cloud", "云端构建与部署"),
]


def result_names(page):
    return sorted(page.locator("#results .card-title a").all_inner_texts())


def query_of(page):
    return parse_qs(urlsplit(page.url).query)


def assert_not_reloaded(page):
    """The marker set on the loaded page survives: htmx swapped the results in place."""
    assert page.evaluate("window.__marker") == 1


def console_error(message):
    """The console error's text and where it comes from (the page links its favicon, so
    nothing is left out)."""
    return f"{message.text} ({message.location.get('url', '')})"


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"public-{name}.png", full_page=True)


def test_a_visitor_filters_searches_and_explores_the_map(page):
    for track_slug, name, name_en, tagline in CATALOGUE:
        make_project(name=name, name_en=name_en, tagline=tagline, track_slug=track_slug)
    problems = []
    page.on(
        "console",
        lambda message: problems.append(console_error(message)) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The list, in Chinese, all twelve.
    page.goto("/projects/")
    expect(page.locator("#result-count")).to_contain_text("12 个项目")
    shoot(page, "list")
    page.evaluate("window.__marker = 1")

    # Tick a track: the results change in place and the address follows (hx-push-url).
    page.locator("details.filter-group summary", has_text="赛道").click()
    page.locator('input[name="track"][value="customer-service"]').check()
    expect(page.locator("#result-count")).to_contain_text("4 个项目")
    page.wait_for_url("**/projects/?*track=customer-service*")
    assert result_names(page) == sorted(name for _, name, _, _ in CATALOGUE[:4])
    assert_not_reloaded(page)

    # Two Chinese characters of search, within that track: only the one project.
    page.locator("#id_q").fill("客服")
    expect(page.locator("#result-count")).to_contain_text("1 个项目")
    expect(page.locator("#results .card-title a")).to_have_text(["智能客服机器人"])
    page.wait_for_url("**/projects/?*q=*")
    assert query_of(page)["q"] == ["客服"] and query_of(page)["track"] == ["customer-service"]
    assert_not_reloaded(page)
    chips = page.locator("#results a.chip")
    expect(chips).to_have_count(2)
    shoot(page, "list-filtered")

    # Remove the track chip (a plain link: the page and its form come back without the filter);
    # the search now finds 客服 in every track. Leaving the search box first lets its `change`
    # request (the same query again) finish before the page is left.
    with page.expect_response(lambda response: "q=" in response.url):
        page.locator("#id_q").blur()
    chips.filter(has_text="智能客服").click()
    page.wait_for_url(lambda url: "track=" not in url and "q=" in url)
    expect(page.locator("#result-count")).to_contain_text("2 个项目")
    expect(page.locator("#results .card-title a")).to_have_text(["客服外呼智能体", "智能客服机器人"])
    expect(page.locator("#results a.chip")).to_have_count(1)

    # The map: a tile's tooltip on hover and on keyboard focus, then the tile leads to the project.
    page.goto("/map/")
    expect(page.locator("#result-count")).to_contain_text("12 个项目")
    tile = page.locator('a.tile[href="/projects/smart-support-bot/"]')
    tip = tile.locator(".tile-tip")
    expect(tip).to_be_hidden()
    tile.hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("智能客服机器人")
    expect(tip).to_contain_text("全天候回答网店顾客的问题")
    other = page.locator('a.tile[href="/projects/deep-review/"]')
    other.focus()
    expect(other.locator(".tile-tip")).to_be_visible()
    expect(other.locator(".tile-tip")).to_contain_text("代码审查机器人")
    other.blur()
    tile.hover()
    shoot(page, "map")
    tile.click()
    page.wait_for_url("**/projects/smart-support-bot/")
    expect(page.locator("h1")).to_contain_text("智能客服机器人")
    expect(page.locator("article.project header")).to_contain_text("智能客服")
    expect(page.locator("#similar-heading")).to_have_text("相似项目")
    shoot(page, "project")

    # The header's language switch: the same page, in English.
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/projects/smart-support-bot/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("article.project header")).to_contain_text("Customer service")
    expect(page.locator("#similar-heading")).to_have_text("Similar projects")
    expect(page.locator("h1")).to_contain_text("智能客服机器人")  # content is shown as entered
    shoot(page, "project-en")

    # /stats/ is being built elsewhere: photograph it when it answers.
    if page.request.get("/stats/").status == 200:
        page.goto("/stats/")
        page.wait_for_load_state("networkidle")
        shoot(page, "stats")

    assert [problem for problem in problems if problem] == []


def test_removing_a_chip_takes_the_filter_out_of_the_form_too(page):
    make_project(name="智能客服机器人", name_en="Smart Support Bot", track_slug="customer-service")
    make_project(name="客服外呼智能体", name_en="Outbound Caller", track_slug="agents")
    make_project(name="码上助手", name_en="Code Buddy", track_slug="coding")
    page.goto("/projects/?track=customer-service&q=客服")
    expect(page.locator("#results a.chip")).to_have_count(2)  # the track's and the search's
    expect(page.locator("#result-count")).to_contain_text("1 个项目")

    # A chip is a plain link: the whole page, form included, comes back without that filter.
    page.locator("#results a.chip", has_text="智能客服").click()
    page.wait_for_load_state()
    expect(page.locator("#result-count")).to_contain_text("2 个项目")
    assert "track=" not in page.url
    expect(page.locator('input[name="track"][value="customer-service"]')).not_to_be_checked()
    expect(page.locator("#id_q")).to_have_value("客服")
