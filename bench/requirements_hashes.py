"""Write every distribution file's sha256 under each pin of requirements*.txt: `make requirements-hashes`.

Not part of the benchmark: a maintainer's tool, kept here so the top level stays as it is.
pip installs the files in hash-checking mode (`--require-hashes`, in `make venv` and CI), so
a pin without its hashes, or a file on the index that is not the one we pinned, stops the
install. The hashes are every file PyPI holds for the pinned version (sdist and all the
wheels), so the same files install on any platform and Python the package supports.

To add or upgrade a package: write `name==version` (and any package it brings in) in
requirements.txt or requirements-dev.txt, then run `make requirements-hashes`; the lines
are rewritten in place with their hashes, comments and order kept. Needs PyPI, nothing else
(the standard library only, any Python 3.12+). Run it again after merging branches that add
packages: existing hashes are looked up afresh, so it is always safe to run.
"""

import json
import re
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("requirements.txt", "requirements-dev.txt")
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[A-Za-z0-9._,\s-]+\])?==(?P<version>[A-Za-z0-9.!+_-]+)$"
)
PYPI = "https://pypi.org/pypi/{name}/json"  # the index answers this one, not .../{version}/json


def logical_lines(text):
    """The file's lines with backslash continuations joined."""
    joined, pending = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def requirement(line):
    """(requirement text, its inline comment) of a pinned line, hashes dropped; None for
    comments, blank lines and options such as -r."""
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "-")):
        return None
    text, _, comment = stripped.partition(" #")
    text = " ".join(part for part in text.split() if not part.startswith("--hash="))
    if not PIN.match(text):
        raise SystemExit(f"not a plain pin (name==version): {text!r}")
    return text, comment.strip()


def sha256s(text):
    """Every sha256 PyPI lists for the pinned version's files, sorted."""
    match = PIN.match(text)
    with urllib.request.urlopen(PYPI.format(name=match["name"]), timeout=60) as response:
        files = json.load(response)["releases"].get(match["version"])
    if not files:
        raise SystemExit(f"PyPI has no files for {text}")
    return sorted({file["digests"]["sha256"] for file in files})


def rewrite(text, hashes):
    out = []
    for line in logical_lines(text):
        found = requirement(line)
        if found is None:
            out.append(line.rstrip())
            continue
        pin, comment = found
        if comment:  # a comment cannot follow a continued line: it goes above
            out.append(f"# {comment.lstrip('# ')}")
        out.append(" \\\n".join([pin, *(f"    --hash=sha256:{digest}" for digest in hashes[pin])]))
    return "\n".join(out) + "\n"


def main():
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in FILES}
    pins = sorted(
        {found[0] for text in texts.values() for line in logical_lines(text) if (found := requirement(line))}
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        hashes = dict(zip(pins, pool.map(sha256s, pins), strict=True))
    for name, text in texts.items():
        (ROOT / name).write_text(rewrite(text, hashes), encoding="utf-8")
    total = sum(map(len, hashes.values()))
    print(f"{len(pins)} pins, {total} hashes written to {', '.join(FILES)}", file=sys.stderr)


if __name__ == "__main__":
    main()
