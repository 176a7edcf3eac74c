import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from registry.forms import ProjectAdminForm
from registry.listing import listing_field_names
from registry.models import Project
from tests.base import make_project, track

pytestmark = pytest.mark.django_db


def image_file(size=(128, 128), kind="PNG", name="logo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#4f46e5").save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{kind.lower()}")


def errors_of(project):
    try:
        project.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


class TestPublished:
    def test_it_includes_published_projects(self):
        project = make_project()
        assert list(Project.objects.published()) == [project]

    def test_it_leaves_out_unpublished_projects(self):
        make_project(published=False)
        assert not Project.objects.published().exists()

    def test_it_leaves_out_projects_scheduled_for_later(self):
        make_project(published_at=timezone.now() + timedelta(hours=1))
        assert not Project.objects.published().exists()

    def test_a_scheduled_project_appears_when_its_time_comes(self):
        project = make_project(published_at=timezone.now() + timedelta(hours=1))
        Project.objects.filter(pk=project.pk).update(published_at=timezone.now() - timedelta(seconds=1))
        assert list(Project.objects.published()) == [project]


class TestSlug:
    def test_it_derives_the_slug_from_the_english_name(self):
        assert make_project(name="深言科技", name_en="DeepLang AI").slug == "deeplang-ai"

    def test_it_derives_a_pinyin_slug_from_a_chinese_name(self):
        assert make_project(name="智能客服").slug == "zhi-neng-ke-fu"

    def test_it_keeps_slugs_unique(self):
        first, second = make_project(name="Lark"), make_project(name="Lark")
        assert (first.slug, second.slug) == ("lark", "lark-2")

    def test_it_keeps_the_slug_when_the_name_changes(self):
        project = make_project(name="Lark")
        project.name = "Skylark"
        project.save()
        assert project.slug == "lark"


class TestListingRules:
    def test_a_complete_listing_is_valid(self):
        project = make_project(website="https://lark.example/", founded_year=2023, hq_country="SG")
        assert errors_of(project) == {}

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "x" * 81),
            ("name", ""),
            ("tagline", "x" * 141),
            ("description", "x" * 5001),
            ("description", ""),
            ("website", "ftp://lark.example/"),
            ("website", "javascript:alert(1)"),
            ("founded_year", 1989),
            ("founded_year", timezone.now().year + 1),
            ("hq_country", "XX"),
            ("stage", "unicorn"),
            ("funding_stage", "series_z"),
            ("team_size", "12"),
            ("target_market", "mars"),
            ("status", "dead"),
            ("contact_email", "not-an-email"),
            ("business_models", ["subscription", "pyramid"]),
            ("modalities", ["smell"]),
        ],
    )
    def test_it_rejects_a_value_outside_the_schema(self, field, value):
        project = make_project()
        setattr(project, field, value)
        assert field in errors_of(project)

    def test_it_accepts_the_schema_boundaries(self):
        project = make_project(name="x" * 80, tagline="y" * 140, description="z" * 5000, founded_year=1990)
        project.founded_year = timezone.now().year
        assert errors_of(project) == {}

    def test_a_country_not_given_stays_unknown(self):
        """No default country (issue 14): an editor's listing may not know it."""
        project = make_project()
        assert project.hq_country == "" and errors_of(project) == {}
        project.refresh_from_db()
        assert project.hq_country == ""


class TestMultiChoice:
    def test_it_stores_codes_in_choice_order_and_reads_back_a_list(self):
        project = make_project(business_models=["open_source", "subscription", "open_source"])
        project.refresh_from_db()
        assert project.business_models == ["subscription", "open_source"]
        assert Project.objects.filter(business_models__contains=",open_source,").count() == 1

    def test_it_gives_labels_for_display(self):
        project = make_project(seeking=["talent", "investment"])
        with translation.override("en"):
            assert [str(label) for label in project.get_seeking_labels()] == ["Investment", "Talent"]
        with translation.override("zh-hans"):
            assert [str(label) for label in project.get_seeking_labels()] == ["融资", "人才"]

    def test_an_empty_choice_is_an_empty_list(self):
        project = make_project()
        project.refresh_from_db()
        assert project.modalities == []


class TestLogo:
    @pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
    def test_it_accepts_png_jpeg_and_webp(self, kind):
        project = make_project()
        project.logo = image_file(kind=kind, name=f"logo.{kind.lower()}")
        assert "logo" not in errors_of(project)

    def test_it_rejects_a_logo_smaller_than_64_pixels(self):
        project = make_project()
        project.logo = image_file(size=(63, 200))
        assert "at least 64×64" in errors_of(project)["logo"][0]

    def test_it_rejects_a_gif(self):
        project = make_project()
        project.logo = image_file(kind="GIF", name="logo.png")
        assert "PNG, JPEG or WebP" in errors_of(project)["logo"][0]

    def test_it_rejects_a_text_file_named_like_an_image(self):
        project = make_project()
        project.logo = SimpleUploadedFile("logo.png", b"<?php echo 'hi'; ?>", content_type="image/png")
        assert "logo" in errors_of(project)

    def test_it_rejects_a_logo_over_2_mb(self):
        project = make_project()
        project.logo = SimpleUploadedFile(
            "logo.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024), content_type="image/png"
        )
        assert "limit is 2 MB" in errors_of(project)["logo"][0]


class TestSecondaryTracks:
    def form(self, **changes):
        project = make_project()
        data = {
            "name": project.name,
            "tagline": project.tagline,
            "description": project.description,
            "track": track("agents").pk,
            "hq_country": "CN",
            "status": "active",
            "listed_by": "founder",
        }
        data.update(changes)
        return ProjectAdminForm(data=data, instance=project)

    def test_it_accepts_two_secondary_tracks(self):
        form = self.form(secondary_tracks=[track("coding").pk, track("productivity").pk])
        assert form.is_valid(), form.errors

    def test_it_rejects_three_secondary_tracks(self):
        form = self.form(secondary_tracks=[track(s).pk for s in ("coding", "video", "finance")])
        assert "at most two" in form.errors["secondary_tracks"][0]

    def test_it_rejects_the_primary_track_as_secondary(self):
        form = self.form(secondary_tracks=[track("agents").pk])
        assert "cannot be the primary" in form.errors["secondary_tracks"][0]


def test_the_schema_names_are_the_contract():
    assert listing_field_names()[:6] == ["name", "name_en", "slug", "tagline", "description", "track"]
    assert "secondary_tracks" in listing_field_names()
