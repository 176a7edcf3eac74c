"""Importing the long list (review.importing): what a row means, its errors, matching and
idempotence, look-alikes, encodings and file formats, logos, and that nothing is ever
half-written."""

import json
from unittest import mock

import pytest
from django.core.files.storage import default_storage

from registry.images import thumbnail_name
from registry.models import Project, Track
from review import importing, workflow
from review.importing import ImportError_, apply_import, plan_import
from review.models import Event, Submission
from tests.base import make_project, make_submission, make_user, track
from tests.review.import_files import csv_file, logo_png, xlsx_file, zip_file

pytestmark = pytest.mark.django_db

FULL = (
    "name",
    "name_en",
    "track",
    "secondary_tracks",
    "tagline",
    "description",
    "website",
    "organization",
    "founded_year",
    "hq_city",
    "hq_country",
    "stage",
    "funding_stage",
    "team_size",
    "business_models",
    "target_market",
    "customer_types",
    "foundation_models",
    "models_used",
    "modalities",
    "seeking",
    "status",
)


def rows_by_line(plan):
    return {row.line: row for row in plan.rows}


def errors_of(plan, line):
    return " | ".join(rows_by_line(plan)[line].errors)


# --- What is written -----------------------------------------------------------------


def test_a_minimal_file_publishes_unowned_listings_by_the_editors_with_an_audit_event():
    editor = make_user("ed", is_staff=True, is_superuser=True)
    data = csv_file([("深言科技", "agents"), ("Open Canvas", "image-design")])

    result = apply_import(data, actor=editor, source="list.csv")

    assert result.applied and result.created == 2
    project = Project.objects.get(name="深言科技")
    assert project.is_public and project.owner is None
    assert project.listed_by == Project.ListedBy.EDITORS and not project.verified
    assert project.track.slug == "agents" and project.slug == "shen-yan-ke-ji"
    event = Event.objects.get(project=project)
    assert event.action == "import" and event.actor == editor and "line 2 of list.csv" in event.detail
    assert Project.objects.published().filter(name="Open Canvas").exists()


def test_imported_listings_can_be_claimed_by_a_founder():
    apply_import(csv_file([("Claimable", "agents")]))
    founder = make_user()

    submission = workflow.claim(Project.objects.get(name="Claimable"), by=founder, evidence="I run it.")

    assert submission.kind == Submission.Kind.CLAIM and submission.state == Submission.State.SUBMITTED


FULL_ROW = {
    "name": "智能客服宝",
    "name_en": "Service Bot",
    "track": "智能客服",  # the track's Chinese name
    "secondary_tracks": "agents；Coding & developer tools",  # full-width separator, English name
    "tagline": "客服机器人",
    "description": "第一段。\n\n第二段。",
    "website": "https://example.cn/bot",
    "organization": "深言",
    "founded_year": "2019年",
    "hq_city": "北京",
    "hq_country": "中国",
    "stage": "Growth",  # English label
    "funding_stage": "A轮",  # Chinese label
    "team_size": "11_50",  # code
    "business_models": "subscription、按量计费",
    "target_market": "global",
    "customer_types": "Enterprises; developers",
    "foundation_models": "open_source",
    "models_used": "Qwen2.5, DeepSeek-V3",
    "modalities": "text|audio",
    "seeking": "investment",
    "status": "active",
}


def test_every_schema_column_is_read_with_codes_or_labels_in_either_language():
    row = FULL_ROW

    result = apply_import(csv_file([row], header=FULL))

    assert result.created == 1, result.plan.rows[0].errors
    project = Project.objects.get(name="智能客服宝")
    assert project.track.slug == "customer-service"
    assert set(project.secondary_tracks.values_list("slug", flat=True)) == {"agents", "coding"}
    assert (project.stage, project.funding_stage, project.team_size) == ("growth", "series_a", "11_50")
    assert project.business_models == ["subscription", "usage"]
    assert project.customer_types == ["enterprise", "developer"]
    assert project.modalities == ["text", "audio"]
    assert project.founded_year == 2019 and project.hq_country.code == "CN"
    assert project.description == "第一段。\n\n第二段。"


def test_headers_may_be_the_fields_labels_in_chinese_or_english_and_unknown_columns_are_reported():
    data = csv_file(
        [("深言", "agents", "https://deeplang.ai", "x")], header=("名称", "Track", "Website", "备注")
    )

    plan = plan_import(data)

    assert plan.columns == ["name", "track", "website"]
    assert plan.warnings == ["Unknown columns, ignored: “备注”."]
    assert plan.counts["create"] == 1


def test_the_read_only_columns_of_our_own_exports_are_ignored_quietly():
    data = csv_file(
        [("A", "agents", "https://x.example/a", "true")], header=("name", "track", "url", "verified")
    )

    plan = plan_import(data)

    assert plan.warnings == [] and plan.columns == ["name", "track"]


# --- Row errors ------------------------------------------------------------------------


def test_the_preview_names_each_rows_errors_and_writes_nothing():
    header = ("name", "track", "website", "stage", "founded_year", "secondary_tracks", "tagline")
    data = csv_file(
        [
            ("Good", "agents", "https://good.example", "idea", "2020", "", ""),
            ("Bad track", "robots", "", "", "", "", ""),
            ("Bad url", "agents", "ftp://files.example", "", "", "", ""),
            ("Bad stage", "agents", "", "huge", "", "", ""),
            ("Bad year", "agents", "", "", "1800", "", ""),
            ("Same twice", "agents", "", "", "", "agents", ""),
            ("", "agents", "", "", "", "", ""),
            ("Long", "agents", "", "", "", "", "x" * 141),
            ("Good", "agents", "https://good.example/", "", "", "", ""),
        ],
        header=header,
    )

    plan = plan_import(data)

    assert Project.objects.count() == 0
    assert rows_by_line(plan)[2].action == "create"
    assert "track: unknown track “robots”." in errors_of(plan, 3)
    assert errors_of(plan, 4).startswith("website: ")
    assert "stage: unknown value “huge” (one of: growth, idea, launched, mature, prototype)." in errors_of(
        plan, 5
    )
    assert errors_of(plan, 6).startswith("founded_year: ")
    assert "secondary track cannot be the primary" in errors_of(plan, 7)
    assert errors_of(plan, 8) == "name: required."
    assert errors_of(plan, 9).startswith("tagline: ")
    assert errors_of(plan, 10) == "The same project as line 2."  # same name and website, normalised
    assert plan.counts == {
        "create": 1,
        "update": 0,
        "unchanged": 0,
        "skip": 0,
        "error": 8,
        "flagged": 0,
        "rows": 9,
    }


def test_valid_rows_are_imported_and_rows_with_errors_left_out():
    result = apply_import(csv_file([("Good", "agents"), ("Bad", "nowhere")]))

    assert result.applied and (result.created, result.errors) == (1, 1)
    assert list(Project.objects.values_list("name", flat=True)) == ["Good"]


def test_all_or_nothing_writes_nothing_when_one_row_has_an_error():
    result = apply_import(csv_file([("Good", "agents"), ("Bad", "nowhere")]), all_or_nothing=True)

    assert not result.applied and "Nothing was imported" in result.message
    assert Project.objects.count() == 0 and Event.objects.count() == 0


def test_an_exception_in_the_middle_writes_nothing_and_removes_the_logos_already_stored():
    data = csv_file(
        [("First", "agents", "a.png"), ("Second", "agents", "b.png"), ("Third", "agents", "")],
        header=("name", "track", "logo"),
    )
    logos = zip_file({"a.png": logo_png(), "b.png": logo_png()})
    real_store, stored = importing._store_logo, []

    def remember(row, names, archive):
        stored.append(real_store(row, names, archive))
        return stored[-1]

    # The last write of an import: its audit events. Everything before it must go.
    with (
        mock.patch.object(importing, "_store_logo", remember),
        mock.patch.object(Event.objects, "bulk_create", side_effect=RuntimeError("the disk is full")),
        pytest.raises(RuntimeError),
    ):
        apply_import(data, logos=logos)

    assert Project.objects.count() == 0 and Event.objects.count() == 0
    assert len(stored) == 2 and all(name for name in stored)
    for name in stored:
        assert not default_storage.exists(name) and not default_storage.exists(thumbnail_name(name))


def test_what_read_file_keeps_is_json_and_plans_as_the_file_does():
    """The admin keeps read_file's result in a JSONField and plans from it at every view."""
    make_project(name="智能客服宝", website="https://example.cn/bot", listed_by="editors")
    data = csv_file([FULL_ROW, {**FULL_ROW, "name": "Other", "founded_year": "soon"}], header=FULL)

    kept = json.loads(json.dumps(importing.read_file(data)))
    plan, direct = importing.plan_from(kept), plan_import(data)

    assert [row.action for row in plan.rows] == [row.action for row in direct.rows] == ["update", "error"]
    for row, same in zip(plan.rows, direct.rows, strict=True):
        assert (row.values, row.secondary, row.changes, row.errors) == (
            same.values,
            same.secondary,
            same.changes,
            same.errors,
        )
    assert (
        plan.rows[0].values["track"] == track("customer-service") and "founded_year" in plan.rows[0].changes
    )


def test_a_track_deleted_since_the_file_was_read_is_an_error_of_its_rows():
    gone = Track.objects.create(slug="gone", name_en="Gone", name_zh="没了", order=99)
    read = importing.read_file(
        csv_file([("A", "gone", ""), ("B", "agents", "gone")], ("name", "track", "secondary_tracks"))
    )
    pk = gone.pk
    gone.delete()

    plan = importing.plan_from(read)

    assert [row.action for row in plan.rows] == ["error", "error"]
    assert errors_of(plan, 2) == f"track: unknown track “{pk}”."
    assert errors_of(plan, 3) == f"secondary_tracks: unknown track “{pk}”."


# --- Matching, idempotence, look-alikes --------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    header = ("name", "track", "website", "tagline", "business_models", "secondary_tracks")
    data = csv_file(
        [
            (
                "LightGBM",
                "coding",
                "https://github.com/microsoft/LightGBM",
                "Boosting",
                "open_source",
                "agents",
            ),
            ("Candle", "coding", "https://github.com/huggingface/candle", "ML in Rust", "", ""),
        ],
        header=header,
    )
    apply_import(data)
    before = list(Project.objects.order_by("pk").values_list("pk", "updated_at", "search_tokens"))
    events = Event.objects.count()

    again = apply_import(data)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert list(Project.objects.order_by("pk").values_list("pk", "updated_at", "search_tokens")) == before
    assert Event.objects.count() == events


# Names as real lists spell them (the CNCF/LF AI member lists): letters case-folded beyond
# ASCII, a double space inside, full-width forms, spaces at the ends, and look-alikes.
AWKWARD_NAMES = [
    ("Ænix (member)", "https://aenix.io"),
    ("ænix (member)", "https://aenix.example/other"),  # a look-alike: the same name, another site
    ("Amoniac OÜ (member)", "https://amoniac.eu"),
    ("Gaia Information Technology  (member)", "https://gaiait.example"),
    ("Straße AI", "https://strasse.example"),
    ("ＡＩ　Ｌａｂ（全角）", "https://ai-lab.example"),
    ("  Leading and trailing  ", ""),
    ("Ünïcödé Labs", "https://unicode.example"),
]


@pytest.mark.parametrize("with_look_alikes", [True, False])
def test_a_file_of_awkward_real_names_imported_twice_writes_nothing_the_second_time(with_look_alikes):
    data = csv_file(
        [(name, "agents", site) for name, site in AWKWARD_NAMES], header=("name", "track", "website")
    )
    flagged = [row.line for row in plan_import(data).rows if row.flagged]
    assert flagged == [3]  # "ænix (member)": the same name as line 2
    first = apply_import(data, include_flagged=flagged if with_look_alikes else ())
    assert first.created == len(AWKWARD_NAMES) - (0 if with_look_alikes else 1)
    before = list(Project.objects.order_by("pk").values_list("pk", "name", "name_key", "updated_at"))
    events = Event.objects.count()

    again = apply_import(data, include_flagged=flagged if with_look_alikes else ())
    third = apply_import(data, include_flagged=flagged)  # the look-alike asked for only now: one more

    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == len(before)
    assert (
        list(Project.objects.order_by("pk").values_list("pk", "name", "name_key", "updated_at"))[
            : len(before)
        ]
        == before
    )
    assert third.created == (0 if with_look_alikes else 1) and third.updated == 0
    assert Event.objects.count() == events + third.created
    keys = dict(Project.objects.values_list("name", "name_key"))
    assert keys["Gaia Information Technology  (member)"] == "gaia information technology (member)"
    assert keys["Straße AI"] == "strasse ai" and keys["Ænix (member)"] == "ænix (member)"
    assert keys["ＡＩ　Ｌａｂ（全角）"] == "ai lab(全角)"


def test_a_listing_is_matched_by_its_name_however_the_file_spells_it():
    make_project(name="Amoniac OÜ", website="https://amoniac.eu", listed_by="editors", tagline="same")
    data = csv_file(
        [("AMONIAC  OÜ", "agents", "https://amoniac.eu", "same")],
        header=("name", "track", "website", "tagline"),
    )
    (row,) = plan_import(data).rows
    assert row.action == "update" and row.changes == ["name"]  # the same listing, its spelling changed
    assert not row.flagged


def test_a_changed_row_updates_the_listing_it_matches_by_name_and_website():
    apply_import(
        csv_file(
            [("Candle", "coding", "https://github.com/huggingface/candle", "old")],
            header=("name", "track", "website", "tagline"),
        )
    )
    changed = csv_file(
        # Case, "www." and a trailing slash do not make it another project.
        [("candle", "coding", "https://WWW.github.com/huggingface/candle/", "new tagline")],
        header=("name", "track", "website", "tagline"),
    )

    plan = plan_import(changed)
    result = apply_import(changed)

    assert plan.rows[0].action == "update" and plan.rows[0].changes == ["name", "website", "tagline"]
    assert result.updated == 1 and Project.objects.count() == 1
    project = Project.objects.get()
    assert project.tagline == "new tagline"
    assert Event.objects.filter(project=project, action="import_update").exists()


def test_a_slug_in_the_file_matches_the_listing_with_that_slug():
    project = make_project(name="Old name", slug="the-slug", listed_by="editors")

    result = apply_import(csv_file([("the-slug", "New name", "agents")], header=("slug", "name", "track")))

    assert result.updated == 1
    project.refresh_from_db()
    assert project.name == "New name" and project.slug == "the-slug"


def test_projects_sharing_a_host_are_different_projects_when_their_paths_differ():
    data = csv_file(
        [
            ("AutoGen", "agents", "https://github.com/microsoft/autogen"),
            ("LightGBM", "agents", "https://github.com/Microsoft/LightGBM"),
            ("Hub", "agents", "https://huggingface.co"),
        ],
        header=("name", "track", "website"),
    )

    plan = plan_import(data)

    assert [row.action for row in plan.rows] == ["create", "create", "create"]
    assert not any(row.flagged for row in plan.rows)


def test_look_alikes_are_flagged_and_imported_only_when_the_editor_says_so():
    make_project(name="Ray", website="https://ray.io", listed_by="editors")
    founder = make_user()
    make_submission(founder, state="submitted", name="Pending One", website="https://pending.example")
    data = csv_file(
        [
            ("Ray", "agents", "https://bair.berkeley.edu/ray"),  # same name, other site
            ("Ray Serve", "agents", "https://ray.io/"),  # same site, other name
            ("Pending One", "agents", ""),  # a founder has submitted it
            ("Twin A", "agents", "https://twins.example"),
            ("Twin B", "agents", "https://twins.example"),  # same site as the row above
        ],
        header=("name", "track", "website"),
    )

    plan = plan_import(data)
    lines = rows_by_line(plan)
    assert lines[2].similar == ["“Ray” on the map (same name)"]
    assert lines[3].similar == ["“Ray” on the map (same website)"]
    assert lines[4].similar[0].startswith("submission #") and "same name" in lines[4].similar[0]
    assert not lines[5].flagged and lines[6].similar == ["line 5 (same website)"]

    result = apply_import(data, include_flagged=[3])

    assert (result.created, result.skipped) == (2, 3)
    assert set(Project.objects.values_list("name", flat=True)) == {"Ray", "Ray Serve", "Twin A"}


def test_a_listing_kept_by_its_founder_is_never_changed_by_an_import():
    founder = make_user()
    project = make_project(name="Mine", website="https://mine.example", owner=founder, tagline="mine")

    result = apply_import(
        csv_file(
            [("Mine", "agents", "https://mine.example", "theirs")],
            header=("name", "track", "website", "tagline"),
        )
    )

    assert result.skipped == 1 and result.updated == 0
    project.refresh_from_db()
    assert project.tagline == "mine"
    assert "kept up to date by its founder" in result.plan.rows[0].warnings[0]


# --- Encodings and file formats --------------------------------------------------------


ROWS = [("深言科技", "智能客服"), ("零一万物", "AI基础设施与模型服务")]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""), ("gbk", b""), ("gb2312", b"")],
)
def test_chinese_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030_or_gbk(encoding, bom):
    data = bom + csv_file(ROWS, encoding=encoding)

    plan = plan_import(data)

    assert [row.name for row in plan.rows] == ["深言科技", "零一万物"]
    assert [row.values["track"].slug for row in plan.rows] == ["customer-service", "infrastructure"]
    assert plan.encoding == ("utf-8" if encoding == "utf-8" else "gb18030")


def test_excel_unicode_text_is_utf16_with_tabs():
    data = b"\xff\xfe" + csv_file(ROWS, delimiter="\t", encoding="utf-16-le")

    plan = plan_import(data)

    assert plan.encoding == "utf-16" and [row.name for row in plan.rows] == ["深言科技", "零一万物"]


def test_semicolon_separated_csv_from_european_excel_is_read():
    plan = plan_import(csv_file(ROWS, delimiter=";"))

    assert [row.name for row in plan.rows] == ["深言科技", "零一万物"]


def test_an_encoding_can_be_chosen_and_a_wrong_choice_is_refused():
    data = csv_file(ROWS, encoding="gb18030")

    assert plan_import(data, encoding="gb18030").rows[0].name == "深言科技"
    with pytest.raises(ImportError_, match="cannot be read as UTF-8"):
        plan_import(data, encoding="utf-8")


def test_bytes_that_are_no_known_encoding_are_refused():
    data = b"name,track\n" + bytes(range(0x80, 0x100)) * 3 + b",agents\n"

    with pytest.raises(ImportError_, match="neither UTF-8 nor GB18030"):
        plan_import(data)


def test_xlsx_is_read_with_numbers_as_excel_keeps_them():
    data = xlsx_file(
        [("深言科技", "agents", 2019.0), ("", "", None), ("B", "coding", 2021)],
        header=("name", "track", "founded_year"),
    )

    plan = plan_import(data)

    assert plan.format == "xlsx"
    assert [(row.name, row.values["founded_year"]) for row in plan.rows] == [("深言科技", 2019), ("B", 2021)]
    assert [row.line for row in plan.rows] == [2, 4]  # the sheet's own row numbers; the empty one skipped


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"name,track\n", "a header but no rows"),
        (b"name,website\nA,https://a.example\n", "no “track” column"),
        (b"title,category\nA,agents\n", "no “name”, “track” column"),
        (b"%PDF-1.7\n...", "This is a PDF file"),
        (logo_png(), "This is a PNG file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel 97-2003 file"),
        (b"PK\x03\x04" + b"\x00" * 64, "not an XLSX workbook"),
        (zip_file({"hello.txt": b"hi"}), "not an XLSX workbook"),
        (b"name,track\x00\x01\x02\nA,agents\n", "binary file"),
    ],
)
def test_files_that_are_not_a_list_are_refused_with_a_reason(data, message):
    with pytest.raises(ImportError_, match=message):
        plan_import(data)
    assert Project.objects.count() == 0


def test_a_file_of_100000_rows_is_refused_before_any_row_is_checked():
    data = b"name,track\n" + b"".join(b"Project %d,agents\n" % number for number in range(100_000))

    with mock.patch.object(importing, "_read_row") as read_row, pytest.raises(ImportError_) as refused:
        apply_import(data)

    assert "more than 10,000 rows" in str(refused.value)
    read_row.assert_not_called()
    assert Project.objects.count() == 0


# --- Formulas ----------------------------------------------------------------------------


def test_formulas_are_refused_in_csv_and_xlsx_cells():
    csv_plan = plan_import(
        csv_file([('=HYPERLINK("http://evil.example","x")', "agents"), ("Fine", "agents")])
    )
    xlsx_plan = plan_import(xlsx_file([("x", "agents"), ("Fine", "agents")], formulas=[(0, 0, "=1+1")]))

    for plan in (csv_plan, xlsx_plan):
        assert plan.rows[0].action == "error" and "formula" in plan.rows[0].errors[0]
        assert plan.rows[1].action == "create"


def test_text_our_exports_protected_with_an_apostrophe_comes_back_as_it_was():
    plan = plan_import(csv_file([("'=Genius", "agents", "'+86 AI")], header=("name", "track", "tagline")))

    assert plan.rows[0].values["name"] == "=Genius" and plan.rows[0].values["tagline"] == "+86 AI"


# --- Logos --------------------------------------------------------------------------------


def test_logos_named_in_the_file_are_taken_from_the_zip_and_re_encoded():
    data = csv_file(
        [("With logo", "agents", "logos/deeplang.png"), ("Missing", "agents", "nope.png")],
        header=("name", "track", "logo"),
    )
    logos = zip_file({"export/deeplang.png": logo_png()})

    result = apply_import(data, logos=logos)

    project = Project.objects.get(name="With logo")
    assert project.logo.name.endswith(".webp") and default_storage.exists(project.logo.name)
    assert not Project.objects.get(name="Missing").logo
    missing = rows_by_line(result.plan)[3]
    assert missing.warnings == ["logo: “nope.png” is not in the ZIP; imported without a logo."]


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (b"<?php system($_GET['c']); ?>", "not a PNG, JPEG or WebP image"),
        (logo_png(size=(16, 16)), "at least 64"),
        (b"\x89PNG" + b"\x00" * (3 * 1024 * 1024), "larger than 2 MB"),
    ],
)
def test_a_bad_logo_in_the_zip_is_an_error_of_its_row(member, message):
    data = csv_file(
        [("Bad logo", "agents", "bad.png"), ("Fine", "agents", "")], header=("name", "track", "logo")
    )

    plan = plan_import(data, logos=zip_file({"bad.png": member}))

    assert plan.rows[0].action == "error" and message in plan.rows[0].errors[0]
    assert plan.rows[1].action == "create"


def test_a_logo_named_by_many_rows_is_unpacked_checked_and_stored_once():
    from registry import images

    rows = [(f"Shared {n}", "agents", "shared.png" if n % 2 else "logos/SHARED.PNG") for n in range(30)]
    rows += [("Bad one", "agents", "bad.png"), ("Bad two", "agents", "bad.png")]
    data = csv_file(rows, header=("name", "track", "logo"))
    logos = zip_file({"shared.png": logo_png(), "bad.png": b"not an image"})
    real_inspect, inspected = images.inspect_logo, []

    def counting(file):
        inspected.append(file.name)
        return real_inspect(file)

    with mock.patch.object(images, "inspect_logo", counting):
        result = apply_import(data, logos=logos)

    assert sorted(name.casefold() for name in inspected) == ["bad.png", "shared.png"]  # once each
    assert result.created == 30 and result.errors == 2
    bad = [row for row in result.plan.rows if row.values.get("name", "").startswith("Bad")]
    assert all(row.action == "error" and "not a PNG, JPEG or WebP" in row.errors[0] for row in bad)
    names = set(Project.objects.values_list("logo", flat=True))
    assert len(names) == 1 and default_storage.exists(names.pop())


def test_a_logos_file_that_is_not_a_zip_is_refused():
    with pytest.raises(ImportError_, match="not a ZIP"):
        plan_import(csv_file([("A", "agents")]), logos=b"not a zip")


# --- Contact addresses -------------------------------------------------------------------------


def test_imported_contact_emails_are_shown_only_when_the_file_says_they_are_public():
    header = ("name", "track", "contact_email")

    apply_import(csv_file([("Private", "agents", "a@example.com")], header=header))
    apply_import(csv_file([("Public", "agents", "b@example.com")], header=header), public_contact_emails=True)

    assert Project.objects.get(name="Private").public_contact_email == ""
    assert Project.objects.get(name="Public").public_contact_email == "b@example.com"


def test_a_tracks_name_that_is_an_editor_export_column_is_read(editor=None):
    project = make_project(name="Exported", listed_by="editors", track_slug="video")

    plan = plan_import(
        csv_file([(project.slug, "Exported", track("video").name_en)], header=("slug", "name", "track"))
    )

    assert plan.rows[0].action == "unchanged"


def test_new_listings_with_the_same_name_get_distinct_slugs_and_their_secondary_tracks():
    make_project(name="Twin", slug="twin")
    data = csv_file(
        [
            ("Twin", "agents", "https://one.example", "video"),
            ("Twin", "agents", "https://two.example", "coding;video"),
        ],
        header=("name", "track", "website", "secondary_tracks"),
    )

    result = apply_import(data, include_flagged=[2, 3])

    assert result.created == 2
    twins = Project.objects.filter(name="Twin").order_by("pk")
    assert [p.slug for p in twins] == ["twin", "twin-2", "twin-3"]
    assert [sorted(t.slug for t in p.secondary_tracks.all()) for p in twins[1:]] == [
        ["video"],
        ["coding", "video"],
    ]
    assert all(p.search_tokens for p in twins[1:])
