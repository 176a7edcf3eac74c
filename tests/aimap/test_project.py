"""Project-wide guarantees: migrations match the models, every interface string is translated."""

import gettext
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries():
    """(msgid, msgstr) pairs of the Chinese catalogue, multi-line strings joined."""
    text = (CATALOG / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if block.lstrip().startswith("#~") or "\nmsgctxt " in "\n" + block:
            continue  # obsolete, or a word with a context (looked up with pgettext)
        fields = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            entries.append((fields["msgid"], fields.get("msgstr", fields.get("msgstr[0]", ""))))
    return entries


def test_no_migration_is_missing(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_interface_string_has_a_chinese_translation():
    untranslated = [msgid for msgid, msgstr in po_entries() if not msgstr]
    assert len(po_entries()) > 100
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    with (CATALOG / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, msgstr in po_entries()
        if "\\" not in msgid and compiled.gettext(msgid) != msgstr.replace('\\"', '"')
    ]
    assert stale == [], "run `make messages` to recompile locale/"


def test_every_marked_string_in_the_code_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    """makemessages over a copy of the code and the catalogue: nothing new may appear."""
    if not shutil.which("xgettext"):
        pytest.skip("xgettext (Debian's gettext) is not installed")
    for name in ("aimap", "registry", "review", "templates", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)  # makemessages writes next to the files it reads
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    msgids = re.compile(r'^msgid "(.+)"$', flags=re.MULTILINE)
    before = set(msgids.findall((CATALOG / "django.po").read_text(encoding="utf-8")))
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    text = (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    after = set(msgids.findall(text))
    assert after - before == set(), "new strings: run `make messages` and translate them"
