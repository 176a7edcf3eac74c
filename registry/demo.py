"""Demo data: a deterministic, clearly fictional map for development and demos.

`manage.py seed_demo` (aimap/management/commands/seed_demo.py) calls the three
`ensure_*` / `seed_*` functions of this module, then review.demo for the submissions.
The rules:

* Deterministic. Project number n (1, 2, 3...) is built from its own
  `random.Random` seeded with SEED and n, so its name, slug and every field value
  depend on n alone, never on how many projects were asked for: `--projects 50`
  followed by `--projects 360` gives the same 360 projects as `--projects 360`.
  Only `rng.random()` is used (see `pick`), because it is the one method Python
  promises to keep stable across versions. Times are offsets from `demo_anchor()`
  (midnight UTC of the day of seeding), so the demo always looks recent.
* Clearly fictional. Organisations end in "(Demo)", websites use the reserved
  `.example` TLD, contact addresses are @example.com, and each description says so.
* Complete. Tracks and every choice of every choice field are dealt from "decks"
  (each code repeated by its weight, shuffled once): project n takes card
  n % len(deck), so each code appears at least once in every len(deck) projects.
* Idempotent. Demo projects are recognised by their deterministic slugs; missing ones
  are inserted in batches, one transaction each, with no per-row save() and no per-row
  queries: bulk_create, or on PostgreSQL registry.bulkload.load() (binary COPY, and for
  `--projects 100000` worker processes; the same rows either way).
"""

import dataclasses
import functools
import io
import math
import random
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from registry import bulkload, published
from registry.bulkload import Phases
from registry.images import process_logo, thumbnail_name
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

SEED = 20240601
DEFAULT_PROJECTS = 360
BATCH_SIZE = 2000  # projects per transaction
LOGO_DIR = "logos/demo"
LOGO_SIDE = 128


# --- Randomness that stays the same on every machine -------------------------


def project_rng(number):
    """Project `number`'s own generator (string seeds hash the same everywhere)."""
    return random.Random(f"aimap-demo/{SEED}/project/{number}")


def pick(rng, items):
    return items[int(rng.random() * len(items))]


def chance(rng, probability):
    return rng.random() < probability


def between(rng, low, high):
    """An integer from low to high, both included."""
    return low + int(rng.random() * (high - low + 1))


def shuffled(items, rng):
    """Fisher-Yates with rng.random() only (random.shuffle's algorithm may change)."""
    items = list(items)
    for i in range(len(items) - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        items[i], items[j] = items[j], items[i]
    return items


def make_deck(name, weights):
    """Each code repeated by its weight, shuffled once with a seed of its own."""
    cards = [str(code) for code, weight in weights.items() for _ in range(weight)]
    return shuffled(cards, random.Random(f"aimap-demo/{SEED}/deck/{name}"))


def deal(deck, number):
    return deck[number % len(deck)]


# --- Decks -------------------------------------------------------------------
# Deck lengths mostly differ (track 31, stage 20, funding 23, team 21, market 11,
# status 19...) so that two fields do not pair up the same way on every lap.

TRACK_DECK = make_deck(
    "track",
    {
        "ai-companion": 2, "customer-service": 2, "healthcare": 2, "education": 2, "finance": 2,
        "image-design": 2, "video": 2, "voice-audio": 2, "agents": 4, "coding": 2,
        "productivity": 2, "marketing-ecommerce": 2, "enterprise-knowledge": 3, "industry": 1,
        "infrastructure": 1,
    },
)  # fmt: skip
STAGE_DECK = make_deck(
    "stage",
    {Stage.IDEA: 2, Stage.PROTOTYPE: 4, Stage.LAUNCHED: 7, Stage.GROWTH: 5, Stage.MATURE: 2},
)
FUNDING_DECK = make_deck(
    "funding_stage",
    {
        FundingStage.BOOTSTRAPPED: 3, FundingStage.ANGEL: 4, FundingStage.SEED: 4, FundingStage.PRE_A: 3,
        FundingStage.SERIES_A: 3, FundingStage.SERIES_B: 2, FundingStage.SERIES_C_PLUS: 1,
        FundingStage.PUBLIC: 1, FundingStage.UNDISCLOSED: 2,
    },
)  # fmt: skip
TEAM_DECK = make_deck(
    "team_size",
    {TeamSize.S_1_10: 7, TeamSize.S_11_50: 7, TeamSize.S_51_200: 4, TeamSize.S_201_1000: 2,
     TeamSize.S_1000_PLUS: 1},
)  # fmt: skip
MARKET_DECK = make_deck(
    "target_market", {TargetMarket.CHINA: 7, TargetMarket.OVERSEAS: 2, TargetMarket.GLOBAL: 2}
)
# What became of the projects that ended: most closed, some pivoted, fewer acquired.
END_DECK = make_deck("end", {Status.CLOSED: 6, Status.PIVOTED: 3, Status.ACQUIRED: 2})
# The yearly rate at which listed projects end (exponential survival): about a fifth gone
# after a year, half after three, as the outside figures of issue 16 describe.
YEARLY_END_RATE = 0.25
ACQUIRERS = ["Example Group (Demo)", "示例控股 (Demo)", "Sample Holdings (Demo)", "样例集团 (Demo)"]
BUSINESS_DECK = make_deck(
    "business_models",
    {
        BusinessModel.SUBSCRIPTION: 5, BusinessModel.USAGE: 3, BusinessModel.LICENSE: 2,
        BusinessModel.CUSTOM_DELIVERY: 3, BusinessModel.ADVERTISING: 1, BusinessModel.TRANSACTION: 1,
        BusinessModel.OPEN_SOURCE: 1, BusinessModel.UNDECIDED: 1,
    },
)  # fmt: skip
CUSTOMER_DECK = make_deck(
    "customer_types",
    {CustomerType.ENTERPRISE: 5, CustomerType.SMB: 4, CustomerType.CONSUMER: 4, CustomerType.DEVELOPER: 2,
     CustomerType.GOVERNMENT: 1},
)  # fmt: skip
FOUNDATION_DECK = make_deck(
    "foundation_models",
    {FoundationModel.OPEN_SOURCE: 3, FoundationModel.PROPRIETARY_API: 3, FoundationModel.SELF_DEVELOPED: 1},
)
MODALITY_DECK = make_deck(
    "modalities",
    {Modality.TEXT: 6, Modality.IMAGE: 3, Modality.VIDEO: 2, Modality.AUDIO: 2, Modality.THREE_D: 1,
     Modality.CODE: 1},
)  # fmt: skip
SEEKING_DECK = make_deck(
    "seeking",
    {Seeking.INVESTMENT: 4, Seeking.ACQUISITION: 1, Seeking.PARTNERS: 3, Seeking.CUSTOMERS: 4,
     Seeking.COMPUTE: 1, Seeking.TALENT: 2},
)  # fmt: skip
COUNTRY_DECK = make_deck("hq_country", {"CN": 16, "US": 2, "SG": 1, "GB": 1, "JP": 1, "DE": 1, "HK": 1})

# (hq_city as stored, English spelling for English descriptions)
CITIES = {
    "CN": [("北京", "Beijing"), ("上海", "Shanghai"), ("深圳", "Shenzhen"), ("杭州", "Hangzhou"),
           ("广州", "Guangzhou"), ("成都", "Chengdu"), ("苏州", "Suzhou"), ("南京", "Nanjing"),
           ("武汉", "Wuhan"), ("西安", "Xi'an"), ("合肥", "Hefei")],
    "HK": [("香港", "Hong Kong")],
    "US": [("San Francisco", "San Francisco"), ("New York", "New York"), ("Seattle", "Seattle")],
    "SG": [("Singapore", "Singapore")],
    "GB": [("London", "London"), ("Cambridge", "Cambridge")],
    "JP": [("Tokyo", "Tokyo"), ("Osaka", "Osaka")],
    "DE": [("Berlin", "Berlin"), ("Munich", "Munich")],
}  # fmt: skip

# The modality a track naturally works with, added to whatever the deck deals.
TRACK_MODALITY = {
    "ai-companion": Modality.TEXT, "customer-service": Modality.TEXT, "image-design": Modality.IMAGE,
    "video": Modality.VIDEO, "voice-audio": Modality.AUDIO, "coding": Modality.CODE,
}  # fmt: skip


# --- Names and words ---------------------------------------------------------

# 48 name prefixes (Chinese, English); each also has one logo in the pool.
PREFIXES = [
    ("云雀", "Lark"), ("星图", "StarMap"), ("灵犀", "Lingxi"), ("沧澜", "Canglan"), ("青鸟", "Bluebird"),
    ("白鹭", "Egret"), ("极光", "Aurora"), ("云帆", "CloudSail"), ("墨竹", "InkBamboo"), ("知微", "Zhiwei"),
    ("明镜", "Mingjing"), ("飞鱼", "FlyingFish"), ("松果", "Pinecone"), ("蜂鸟", "Hummingbird"),
    ("北辰", "Beichen"), ("千寻", "Qianxun"), ("澄光", "ClearLight"), ("火花", "Sparkle"), ("星河", "StarRiver"),
    ("海豚", "Dolphin"), ("天枢", "Tianshu"), ("若水", "Ruoshui"), ("鲸歌", "WhaleSong"), ("知行", "Zhixing"),
    ("青藤", "Ivy"), ("凌云", "Lingyun"), ("暖阳", "WarmSun"), ("微光", "Glimmer"), ("灯塔", "Lighthouse"),
    ("听雨", "Tingyu"), ("山海", "Shanhai"), ("木棉", "Kapok"), ("石榴", "Pomegranate"), ("萤火", "Firefly"),
    ("风铃", "WindChime"), ("鹦鹉", "Parrot"), ("棱镜", "Prism"), ("织梦", "DreamLoom"), ("银杏", "Ginkgo"),
    ("游隼", "Falcon"), ("蓝鲸", "BlueWhale"), ("岩羊", "Bharal"), ("赤兔", "RedHare"), ("锦鲤", "Koi"),
    ("纸鸢", "PaperKite"), ("晨曦", "Dawnlight"), ("雪豹", "SnowLeopard"), ("青禾", "Qinghe"),
]  # fmt: skip
SUFFIXES = [
    ("智能", "Intelligence"), ("科技", "Tech"), ("AI", "AI"), ("数据", "Data"), ("实验室", "Labs"),
    ("智联", "Link"), ("云", "Cloud"), ("智造", "Works"), ("引擎", "Engine"), ("视觉", "Vision"),
]  # fmt: skip

# Per track: (Chinese, English) descriptions of what a product does.
PRODUCTS = {
    "ai-companion": [
        (
            "记得你说过每一件小事的陪伴型聊天伙伴",
            "a companion chatbot that remembers the little things you tell it",
        ),
        ("面向独居老人的语音陪伴助手", "a voice companion for older people living alone"),
        ("用AI角色练习外语的社交应用", "a social app for practising languages with AI characters"),
    ],
    "customer-service": [
        ("面向电商卖家的智能客服机器人", "a customer-service bot for online sellers"),
        ("能接听来电的语音客服坐席", "a voice agent that answers the phone"),
        (
            "自动汇总工单并给出回复建议的客服助手",
            "a help-desk assistant that summarises tickets and drafts replies",
        ),
    ],
    "healthcare": [
        ("辅助医生书写病历的语音助手", "a voice assistant that drafts medical notes for doctors"),
        ("基层医院的影像辅助筛查工具", "an imaging triage tool for community hospitals"),
        ("帮助患者读懂检查报告的健康助手", "a health assistant that explains test results to patients"),
    ],
    "education": [
        ("按学生水平出题的AI数学辅导", "an AI maths tutor that adapts to each student"),
        ("帮助教师批改作文的教学助手", "a teaching assistant that helps mark essays"),
        ("陪孩子练习英语口语的AI老师", "an AI speaking partner for children learning English"),
    ],
    "finance": [
        ("自动整理公告与研报的投研助手", "a research assistant that digests filings and reports"),
        ("面向中小银行的智能风控模型", "risk models for small and regional banks"),
        ("自动检查营销材料合规性的工具", "a tool that checks marketing material for compliance"),
    ],
    "image-design": [
        ("一句话生成电商主图的设计工具", "a design tool that turns one sentence into product images"),
        ("为插画师打造的风格化绘图助手", "a style-aware drawing assistant for illustrators"),
        ("自动生成品牌海报与社交媒体配图的平台", "a platform that makes brand posters and social images"),
    ],
    "video": [
        ("把文章变成短视频的自动剪辑工具", "an editor that turns articles into short videos"),
        ("用于直播和培训的数字人主播", "digital presenters for live streams and training"),
        ("文字生成视频的创作平台", "a text-to-video studio for creators"),
    ],
    "voice-audio": [
        ("听得懂方言的语音识别服务", "speech recognition that understands regional dialects"),
        ("为有声书自然朗读的语音合成引擎", "a speech engine that reads audiobooks aloud"),
        ("为短视频配乐的AI作曲工具", "an AI composer for short-video soundtracks"),
    ],
    "agents": [
        ("替你比价下单的购物智能体", "a shopping agent that compares prices and places orders"),
        ("自动完成报销和差旅预订的办公智能体", "an office agent that files expenses and books travel"),
        ("可视化搭建业务智能体的平台", "a visual builder for business agents"),
    ],
    "coding": [
        ("理解整个代码库的编程助手", "a coding assistant that understands the whole codebase"),
        ("自动生成单元测试的工具", "a tool that writes unit tests"),
        ("把旧系统代码迁移到新框架的AI服务", "an AI service that moves legacy code to new frameworks"),
    ],
    "productivity": [
        ("自动生成会议纪要和待办的会议助手", "a meeting assistant that writes minutes and to-dos"),
        ("面向公文与报告的AI写作助手", "a writing assistant for reports and official documents"),
        ("把表格变成图表与结论的分析助手", "an assistant that turns spreadsheets into charts and findings"),
    ],
    "marketing-ecommerce": [
        ("批量生成商品文案的营销工具", "a tool that writes product copy in bulk"),
        ("直播电商的AI场控助手", "an AI co-host for live-commerce streams"),
        ("跨境卖家的多语言广告投放助手", "a multilingual advertising assistant for cross-border sellers"),
    ],
    "enterprise-knowledge": [
        ("连接企业文档的问答知识库", "a question-answering knowledge base over company documents"),
        ("用自然语言查询数据库的分析工具", "a tool for querying databases in plain language"),
        ("面向律所的合同检索与比对系统", "contract search and comparison for law firms"),
    ],
    "industry": [
        ("产线视觉质检系统", "visual quality inspection for production lines"),
        ("预测设备故障的工业维护平台", "predictive maintenance for industrial equipment"),
        ("优化仓储与配送路线的物流调度系统", "route and warehouse planning for logistics"),
    ],
    "infrastructure": [
        ("高性价比的大模型推理服务", "low-cost inference for large models"),
        ("可私有化部署的模型训练与微调平台", "an on-premises platform for training and fine-tuning models"),
        ("统一管理多家模型API的网关", "a gateway that manages many model APIs in one place"),
    ],
}
TRACK_SLUGS = list(PRODUCTS)  # the fifteen tracks of migration 0002
BENEFITS = [
    ("开箱即用", "ready in an afternoon"),
    ("按用量付费", "pay only for what you use"),
    ("数据不出企业", "your data stays with you"),
    ("中英双语", "in Chinese and English"),
    ("专为小团队设计", "built for small teams"),
    ("支持私有化部署", "deployable on your own servers"),
    ("成本只要一半", "at half the usual cost"),
]
WORDS = {
    CustomerType.ENTERPRISE: ("大型企业", "large companies"),
    CustomerType.SMB: ("中小企业", "small businesses"),
    CustomerType.CONSUMER: ("个人用户", "consumers"),
    CustomerType.DEVELOPER: ("开发者", "developers"),
    CustomerType.GOVERNMENT: ("政府机构", "public bodies"),
    Modality.TEXT: ("文本", "text"),
    Modality.IMAGE: ("图像", "images"),
    Modality.VIDEO: ("视频", "video"),
    Modality.AUDIO: ("音频", "audio"),
    Modality.THREE_D: ("3D", "3D"),
    Modality.CODE: ("代码", "code"),
    Seeking.INVESTMENT: ("投资", "investment"),
    Seeking.ACQUISITION: ("被收购的机会", "an acquirer"),
    Seeking.PARTNERS: ("合作伙伴", "partners"),
    Seeking.CUSTOMERS: ("客户", "customers"),
    Seeking.COMPUTE: ("算力", "compute"),
    Seeking.TALENT: ("人才", "people to hire"),
}
# Plain lists of codes (TextChoices.values is slow to compute 100,000 times).
CUSTOMER_CODES = [str(code) for code in CustomerType.values]
MODALITY_CODES = [str(code) for code in Modality.values]
SEEKING_CODES = [str(code) for code in Seeking.values]
FOUNDATION_CODES = [str(code) for code in FoundationModel.values]
BUSINESS_CODES = [str(code) for code in BusinessModel.values]
OPEN_MODELS = ["Qwen2.5", "DeepSeek-V3", "GLM-4", "Llama 3.1", "Mistral 7B", "Whisper"]
API_MODELS = ["GPT-4o", "Claude", "Gemini", "ERNIE", "Kimi"]

# Founder accounts that own most founder-listed projects; they never get a password.
EXTRA_FOUNDERS = [
    "founder-lin",
    "founder-chen",
    "founder-wang",
    "founder-zhao",
    "founder-smith",
    "founder-tan",
]
# The demo `founder` owns one project in 25 among the first 1,000: enough for a
# dashboard, never thousands.
FOUNDER_EVERY, FOUNDER_UP_TO = 25, 1000


def names(number):
    """(prefix index, Chinese name, English name). Prefix and suffix both follow the
    number, the suffix one step further on each lap of the 48 prefixes, so the first
    48 x 10 = 480 names are all different (then they repeat, the slugs never do)."""
    n = number - 1
    prefix = n % len(PREFIXES)
    suffix = (n + n // len(PREFIXES)) % len(SUFFIXES)
    (zh, en), (suffix_zh, suffix_en) = PREFIXES[prefix], SUFFIXES[suffix]
    return prefix, zh + suffix_zh, f"{en} {suffix_en}"


@functools.cache
def slug_base(name_en):
    return slugify(name_en)  # only 480 different names: slugify each once


def demo_slug(number):
    """'lark-intelligence-0001': unique, since the number after the last hyphen is."""
    return f"{slug_base(names(number)[2])}-{number:04d}"


def demo_slugs(count):
    return [demo_slug(number) for number in range(1, count + 1)]


def logo_name(index):
    return f"{LOGO_DIR}/{index + 1:02d}.png"


def joined(words, language):
    if language == "zh":
        return "、".join(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def demo_anchor():
    """Midnight UTC today: published times count back from it, scheduled ones forward."""
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


# --- One project -------------------------------------------------------------

UNPUBLISHED = {"published": False, "published_at": None, "first_published_at": None}  # a draft


@dataclass
class DemoProject:
    number: int
    fields: dict
    secondary: list  # track slugs
    owner: str | None  # username


def several(rng, deck, number, codes, most=3, alone=None):
    """A dealt code (so every code appears) plus up to most-1 random others;
    `alone` ("not decided yet") is never combined with another code."""
    chosen = [deal(deck, number)]
    for _ in range(between(rng, 0, most - 1)):
        code = pick(rng, codes)
        if code not in chosen and alone not in (code, chosen[0]):
            chosen.append(code)
    return chosen


def build_project(number, anchor):
    """Everything about project `number`, from its own Random: same number, same project."""
    rng = project_rng(number)
    prefix, name, name_en = names(number)
    slug = demo_slug(number)
    track = deal(TRACK_DECK, number)
    others = [other for other in TRACK_SLUGS if other != track]
    secondary = []
    for _ in range(pick(rng, [0, 0, 1, 1, 1, 2])):
        other = pick(rng, others)
        if other not in secondary:
            secondary.append(other)

    country = deal(COUNTRY_DECK, number)
    city, city_en = pick(rng, CITIES[country])
    language = "zh" if chance(rng, 0.8 if country in ("CN", "HK") else 0.15) else "en"

    # Who listed it and what state it is in.
    listed_by = Project.ListedBy.FOUNDER
    if number % FOUNDER_EVERY == 1 and number <= FOUNDER_UP_TO:
        owner = "founder"
    elif chance(rng, 0.2):
        owner, listed_by = None, Project.ListedBy.EDITORS  # imported by the editors
    else:
        owner = pick(rng, EXTRA_FOUNDERS)
    state = rng.random()
    published = state >= 0.06  # about 6% unpublished drafts
    scheduled = published and state < 0.085  # about 2.5% scheduled
    if scheduled:
        published_at = anchor + timedelta(days=between(rng, 1, 45), minutes=between(rng, 0, 1439))
    elif published:
        days_ago = int(1460 * rng.random() ** 1.5)  # over four years, more of them recent
        published_at = anchor - timedelta(days=days_ago, minutes=between(rng, 1, 1439))
    else:
        published_at = None
    public = published and not scheduled
    verified = public and chance(rng, 0.8 if listed_by == Project.ListedBy.EDITORS else 0.55)
    verified_at = published_at - timedelta(hours=between(rng, 2, 240)) if verified else None

    # The schema's fields.
    stage = deal(STAGE_DECK, number)
    customers = several(rng, CUSTOMER_DECK, number, CUSTOMER_CODES, most=2)
    modalities = several(rng, MODALITY_DECK, number, MODALITY_CODES, most=2)
    if track in TRACK_MODALITY and TRACK_MODALITY[track] not in modalities:
        modalities.append(str(TRACK_MODALITY[track]))
    seeking = several(rng, SEEKING_DECK, number, SEEKING_CODES)
    foundation = several(rng, FOUNDATION_DECK, number, FOUNDATION_CODES, most=2)
    models_used = []
    if FoundationModel.OPEN_SOURCE in foundation:
        models_used.append(pick(rng, OPEN_MODELS))
    if FoundationModel.PROPRIETARY_API in foundation:
        models_used.append(pick(rng, API_MODELS))
    if FoundationModel.SELF_DEVELOPED in foundation:
        models_used.append(f"{PREFIXES[prefix][1]}-LM (self-developed)")

    reference_year = min(published_at or anchor, anchor).year  # never a year to come
    age = pick(rng, [0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 13, 20, 30])
    founded_year = None if chance(rng, 0.05) else max(1990, reference_year - age)

    product, product_en = pick(rng, PRODUCTS[track])
    benefit, benefit_en = pick(rng, BENEFITS)
    if language == "zh":
        tagline = f"{product}，{benefit}"
    else:
        tagline = f"{product_en[0].upper()}{product_en[1:]}, {benefit_en}."
    description = describe(
        language, name=name, name_en=name_en, city=city if language == "zh" else city_en,
        product=product if language == "zh" else product_en, customers=customers,
        modalities=modalities, seeking=seeking, founded_year=founded_year,
    )  # fmt: skip

    has_email = chance(rng, 0.8)
    fields = {
        "name": name,
        "name_en": name_en,
        "slug": slug,
        "tagline": tagline,
        "description": description,
        "track_slug": track,
        "organization": (
            f"{PREFIXES[prefix][0]}示例科技 (Demo)"
            if country in ("CN", "HK")
            else f"{PREFIXES[prefix][1]} Example Ltd (Demo)"
        ),
        "website": f"https://{slug}.example/" if chance(rng, 0.92) else "",
        "logo": logo_name(prefix) if chance(rng, 0.85) else "",
        "founded_year": founded_year,
        "hq_city": city,
        "hq_country": country,
        "stage": stage,
        "funding_stage": deal(FUNDING_DECK, number),
        "team_size": deal(TEAM_DECK, number),
        "business_models": several(
            rng, BUSINESS_DECK, number, BUSINESS_CODES, most=2, alone=BusinessModel.UNDECIDED
        ),
        "target_market": deal(MARKET_DECK, number),
        "customer_types": customers,
        "foundation_models": foundation,
        "models_used": ", ".join(models_used),
        "modalities": modalities,
        "seeking": seeking,
        # every project has every key (bulkload.CopyRows reads the first row's keys)
        "status": Status.ACTIVE,
        "status_since": None,
        "status_evidence": "",
        "acquired_by": "",
        "contact_email": f"{slug}@example.com" if has_email else "",
        "show_contact_email": has_email and chance(rng, 0.35),
        "listed_by": listed_by,
        **(Project.publication_values(published_at) if published else UNPUBLISHED),
        "featured": public and chance(rng, 0.04),
        "verified": verified,
        "verified_at": verified_at,
        "last_verified_at": verified_at,
    }
    if public:  # drawn last: the fields above do not depend on it
        fields.update(end_state(rng, number, slug, published_at, anchor, language))
    return DemoProject(number=number, fields=fields, secondary=secondary, owner=owner)


def end_state(rng, number, slug, published_at, anchor, language):
    """What became of a public project by `anchor`: {} while it is active, else its end state
    with a date between its listing and the anchor and fictional evidence. The successors and
    acquirers on the map are linked once the projects are stored (link_lineage)."""
    days = (anchor - published_at).days
    if days < 30 or rng.random() >= 1 - math.exp(-YEARLY_END_RATE * days / 365.25):
        return {}
    status = deal(END_DECK, number)
    since = (published_at + timedelta(days=between(rng, 30, days))).date()
    if chance(rng, 0.6):
        evidence = f"https://news.example/{since:%Y/%m}/{slug}-{status}"
    elif language == "zh":
        evidence = f"创始人于 {since:%Y-%m} 确认（示例数据）"
    else:
        evidence = f"Confirmed by the founders in {since:%Y-%m} (demo data)"
    values = {"status": status, "status_since": since, "status_evidence": evidence}
    if status == Status.ACQUIRED:
        values["acquired_by"] = pick(rng, ACQUIRERS)
    return values


def lineage_target(number, count, anchor, builds):
    """The demo project number `number` (pivoted or acquired) became or was bought by: the
    first of the next numbers (up to `count`) that is public, active, launched or further,
    and listed no earlier; None if there is none (or, for every other acquisition, never:
    some acquirers are only named). From the numbers alone: the same on every database and
    for every order of runs. `builds`: {number: DemoProject} already built."""

    def built(other):
        if other not in builds:
            builds[other] = build_project(other, anchor)
        return builds[other].fields

    fields = built(number)
    if fields["status"] == Status.ACQUIRED and number % 2:
        return None
    for other in range(number + 1, min(number + LINEAGE_REACH, count) + 1):
        candidate = built(other)
        if (
            candidate["published"]
            and candidate["published_at"] <= anchor
            and candidate["status"] == Status.ACTIVE
            and candidate["stage"] in (Stage.LAUNCHED, Stage.GROWTH, Stage.MATURE)
            and candidate["published_at"] >= fields["published_at"]
        ):
            return other
    return None


LINEAGE_REACH = 40


def link_lineage(count, anchor):
    """Link the stored demo projects that pivoted to what they became, and some acquired ones
    to their acquirer on the map (lineage_target), where that project is stored and the link
    not made yet. Returns how many links were made."""
    ended = {}
    for project in Project.objects.filter(
        status__in=[Status.PIVOTED, Status.ACQUIRED], successor__isnull=True, acquirer__isnull=True
    ).only("pk", "slug", "status", "acquired_by"):
        number = project.slug.rpartition("-")[2]
        if number.isdigit() and int(number) <= count and demo_slug(int(number)) == project.slug:
            ended[int(number)] = project
    builds, targets = {}, {}
    for number in sorted(ended):
        target = lineage_target(number, count, anchor, builds)
        if target is not None:
            targets[number] = target
    stored = dict(
        Project.objects.filter(slug__in=[demo_slug(n) for n in set(targets.values())]).values_list(
            "slug", "pk"
        )
    )
    changed = []
    for number, target in targets.items():
        project, pk = ended[number], stored.get(demo_slug(target))
        if pk is None:
            continue
        if project.status == Status.PIVOTED:
            project.successor_id = pk
        else:
            project.acquirer_id, project.acquired_by = pk, builds[target].fields["name"]
        changed.append(project)
    Project.objects.bulk_update(changed, ["successor", "acquirer", "acquired_by"], batch_size=1000)
    return len(changed)


def words(codes, language):
    """Codes as a phrase: '文本、图像' or 'text and images'."""
    return joined([WORDS[code][0 if language == "zh" else 1] for code in codes], language)


def describe(language, *, name, name_en, city, product, customers, modalities, seeking, founded_year):
    """Two plain-text paragraphs, the second saying that the project is fictional."""
    if language == "zh":
        first = (
            f"{name}（{name_en}）是一支总部位于{city}的示例团队，提供{product}。"
            f"主要客户是{words(customers, 'zh')}，产品处理{words(modalities, 'zh')}。"
        )
        founded = f"团队成立于{founded_year}年，" if founded_year else ""
        second = (
            f"{founded}目前正在寻找{words(seeking, 'zh')}。本项目为演示数据：名称、网站和联系方式均为虚构。"
        )
    else:
        first = (
            f"{name_en} ({name}) is a demo team based in {city}, building {product}. "
            f"It mainly serves {words(customers, 'en')} and works with {words(modalities, 'en')}."
        )
        founded = f"Founded in {founded_year}, the team" if founded_year else "The team"
        second = (
            f"{founded} is looking for {words(seeking, 'en')}. "
            "This project is demo data: its name, website and contacts are fictional."
        )
    return f"{first}\n\n{second}"


# --- Logos -------------------------------------------------------------------

# The colours of the fifteen tracks (migration 0002), copied so logos never change.
PALETTE = [
    "#e11d48", "#0891b2", "#16a34a", "#ca8a04", "#1d4ed8", "#c026d3", "#dc2626", "#ea580c",
    "#7c3aed", "#0f766e", "#2563eb", "#db2777", "#4d7c0f", "#57534e", "#334155",
]  # fmt: skip
SHAPES = ["circle", "square", "diamond", "ring"]


def initials(english):
    """'StarMap' -> 'SM', 'Lark' -> 'La'."""
    capitals = [char for char in english if char.isupper()]
    return "".join(capitals[:2]) if len(capitals) >= 2 else english[:2]


def draw_logo(index):
    """PNG bytes of pool logo `index`: a track colour, a pale shape, white initials.
    (colour, shape) pairs differ for the first 15 x 4 = 60 indexes, and the initials follow the prefix."""
    colour = PALETTE[index % len(PALETTE)]
    shape = SHAPES[index % len(SHAPES)]
    image = Image.new("RGB", (LOGO_SIDE, LOGO_SIDE), colour)
    draw = ImageDraw.Draw(image)
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    pale = tuple(channel + (255 - channel) * 35 // 100 for channel in (red, green, blue))
    box = (16, 16, LOGO_SIDE - 16, LOGO_SIDE - 16)
    if shape == "circle":
        draw.ellipse(box, fill=pale)
    elif shape == "square":
        draw.rounded_rectangle(box, radius=20, fill=pale)
    elif shape == "diamond":
        middle = LOGO_SIDE // 2
        draw.polygon([(middle, 8), (LOGO_SIDE - 8, middle), (middle, LOGO_SIDE - 8), (8, middle)], fill=pale)
    else:
        draw.ellipse(box, outline=pale, width=10)
    font = ImageFont.load_default(size=48)
    draw.text(
        (LOGO_SIDE // 2, LOGO_SIDE // 2), initials(PREFIXES[index][1]), fill="white", font=font, anchor="mm"
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ensure_logos(storage=None):
    """Write the pool (one logo per name prefix) once; returns (created, already there)."""
    storage = storage or default_storage
    created = 0
    for index in range(len(PREFIXES)):
        name = logo_name(index)
        if not storage.exists(name):
            storage.save(name, ContentFile(draw_logo(index)))
            created += 1
        if not storage.exists(thumbnail_name(name)):
            _logo, thumbnail = process_logo(ContentFile(draw_logo(index), name="demo.png"))
            storage.save(thumbnail_name(name), thumbnail)
    return created, len(PREFIXES) - created


# --- Accounts ----------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str  # used only when demo passwords are allowed (DEBUG)
    group: str = ""
    staff: bool = False
    superuser: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("founder", "demo-founder-pass"),
    DemoAccount("reviewer", "demo-reviewer-pass", group="Reviewers", staff=True),
    DemoAccount("editor", "demo-editor-pass", group="Editors", staff=True),
    DemoAccount("admin", "demo-admin-pass", staff=True, superuser=True),
]
GROUPS = ["Reviewers", "Editors"]


@transaction.atomic
def ensure_accounts(demo_passwords):
    """Create the demo accounts and the extra founders that are missing.

    Existing accounts are left exactly as they are (password, flags, groups): an
    "admin" that someone made by hand is never changed. New demo accounts get their
    known password only when `demo_passwords` (DEBUG); otherwise an unusable one.
    Returns {username: (user, created)} for the four demo accounts.
    """
    User = get_user_model()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in GROUPS}
    wanted = [account.username for account in DEMO_ACCOUNTS] + EXTRA_FOUNDERS
    existing = {user.username: user for user in User.objects.filter(username__in=wanted)}
    accounts = {}
    for account in DEMO_ACCOUNTS:
        user = existing.get(account.username)
        created = user is None
        if created:
            user = User(
                username=account.username,
                email=f"{account.username}@example.com",
                is_staff=account.staff,
                is_superuser=account.superuser,
            )
            if demo_passwords:
                user.set_password(account.password)
            else:
                user.set_unusable_password()
            user.save()
            if account.group:
                user.groups.add(groups[account.group])
        # allauth logs in by verified email address: the demo accounts' are verified.
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        accounts[account.username] = (user, created)
    missing = [name for name in EXTRA_FOUNDERS if name not in existing]
    extras = [User(username=name, email=f"{name}@example.com") for name in missing]
    for user in extras:
        user.set_unusable_password()
    User.objects.bulk_create(extras)
    return accounts


# --- Projects ----------------------------------------------------------------


@dataclass
class ProjectsReport:
    created: int = 0
    already_there: int = 0
    secondary_rows: int = 0
    linked: int = 0  # pivots and acquisitions linked to a listing on the map
    phases: dict = dataclasses.field(default_factory=dict)  # seconds per phase


def project_values(number, anchor, tracks, owners):
    """Project `number` as (Project(**fields) values, secondary track ids), with the track
    and owner ids of this database ({slug: id}, {username: id})."""
    draft = build_project(number, anchor)
    fields = draft.fields  # the draft's own dict, made for this call
    fields["track_id"] = tracks[fields.pop("track_slug")]
    fields["owner_id"] = owners.get(draft.owner)
    return fields, [tracks[slug] for slug in draft.secondary]


def seed_projects(count, *, anchor=None, batch_size=None, phases=None):
    """Insert demo projects 1..count that are not there yet (by slug).

    Each batch is one transaction: its projects and their secondary tracks arrive
    together or not at all, so an interrupted run is finished by running again.
    On PostgreSQL registry.bulkload.load() inserts them; elsewhere bulk_create.
    """
    anchor = anchor or demo_anchor()
    batch_size = batch_size or BATCH_SIZE
    phases = phases or Phases()
    tracks = dict(Track.objects.filter(slug__in=TRACK_SLUGS).values_list("slug", "pk"))
    missing_tracks = sorted(set(TRACK_SLUGS) - set(tracks))
    if missing_tracks:
        raise LookupError(f"Missing tracks {', '.join(missing_tracks)}: run manage.py migrate first.")
    User = get_user_model()
    owners = dict(
        User.objects.filter(username__in=["founder", *EXTRA_FOUNDERS]).values_list("username", "pk")
    )
    report = ProjectsReport(phases=phases.seconds)
    try:
        with phases("existing slugs"):
            # One read of every slug beats a query per batch (at 100,000 slugs, 0.1 s vs 3 s).
            taken = set(Project.objects.values_list("slug", flat=True)) if count else set()
        batches = []  # the numbers not there yet, batch by batch
        for start in range(1, count + 1, batch_size):
            numbers = range(start, min(start + batch_size, count + 1))
            missing = [number for number in numbers if demo_slug(number) not in taken]
            report.already_there += len(numbers) - len(missing)
            if missing:
                batches.append(missing)
        build = functools.partial(project_values, anchor=anchor, tracks=tracks, owners=owners)
        if connection.vendor == "postgresql":
            report.secondary_rows = bulkload.load(batches, build, phases=phases)
            report.created = sum(len(numbers) for numbers in batches)
        else:
            for numbers in batches:
                with phases("build projects"):
                    built = [build(number) for number in numbers]
                with phases("insert (bulk_create)"), transaction.atomic():
                    report.secondary_rows += _create_projects(built, batch_size)
                report.created += len(numbers)
        with phases("lineage"):
            report.linked = link_lineage(count, anchor)
    finally:
        published.changed()  # bulk inserts send no signals
    return report


def _create_projects(built, batch_size):
    """Insert projects built by project_values, and their secondary tracks, with bulk_create."""
    Through = Project.secondary_tracks.through
    projects = Project.objects.bulk_create([Project(**fields) for fields, _secondary in built])
    rows = [
        Through(project_id=project.pk, track_id=track_id)
        for project, (_fields, secondary) in zip(projects, built, strict=True)
        for track_id in secondary
    ]
    Through.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)
