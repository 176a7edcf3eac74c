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


def requirement_lines(name):
    """(requirement, [sha256, ...]) for each pin of a requirements file, its `\\` continuation
    lines joined and its --hash options apart; comments, blank lines and -r left out."""
    joined = re.sub(r"\\\n", " ", (ROOT / name).read_text(encoding="utf-8"))
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        words = line.split()
        hashes = [word.removeprefix("--hash=sha256:") for word in words if word.startswith("--hash=")]
        yield " ".join(word for word in words if not word.startswith("--hash=")), hashes


def pins(name):
    """{normalised name: (version, extras)} of a requirements file's own lines (not -r)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found = {}
    for line, _hashes in requirement_lines(name):
        requirement = Requirement(line)
        (spec,) = requirement.specifier  # exactly one specifier: ==
        assert spec.operator == "==", f"{name}: {line} is not pinned"
        found[canonicalize_name(requirement.name)] = (spec.version, set(requirement.extras))
    return found


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_pin_carries_the_hashes_pip_checks(name):
    """`make venv` installs with --require-hashes: a pin without a hash stops it. After adding
    or upgrading a pin, `make requirements-hashes` writes them (README, "Dependencies")."""
    lines = list(requirement_lines(name))
    assert len(lines) > 10
    for line, hashes in lines:
        assert hashes, f"{name}: {line} has no --hash: run `make requirements-hashes`"
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in hashes), f"{name}: {line}"
        assert len(set(hashes)) == len(hashes), f"{name}: {line} repeats a hash"


def test_the_runtime_requirements_are_pinned_and_closed_and_the_tools_apart():
    """requirements.txt holds the runtime only, every package pinned, and everything those
    packages need (their own requirements, the extras asked for) is in it too;
    requirements-dev.txt adds the tools, pinned, and nothing the runtime lacks depends on them."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    runtime, tools = pins("requirements.txt"), pins("requirements-dev.txt")
    assert not set(runtime) & set(tools), "a package is in both files"
    assert {"pytest", "ruff", "playwright", "hypothesis", "import-linter"} <= set(tools)
    assert not {"pytest", "ruff", "playwright", "hypothesis"} & set(runtime)

    def needs(name, extras):
        for text in requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                yield canonicalize_name(requirement.name)

    for listed, (_version, extras) in {**runtime, **tools}.items():
        wanted = runtime if listed in runtime else {**runtime, **tools}
        missing = set(needs(listed, extras)) - set(wanted)
        assert not missing, f"{listed} needs {sorted(missing)}, not pinned where it belongs"
