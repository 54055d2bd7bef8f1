"""Fail when the Khmer or Korean catalogue is incomplete or out of date.

Run by `make lint`. Two checks, per language of `LANGUAGES` (English is the
source language):

1. `msgfmt --check --statistics` on locale/<lang>/LC_MESSAGES/django.po (and
   on djangojs.po where there is one: Khmer for the admin's JavaScript): any
   untranslated or fuzzy entry, or a translation whose placeholders do not
   match its msgid, fails.
2. The msgids `makemessages` would extract today are compared with the
   catalogue: a string marked for translation in the code but absent from the
   .po (makemessages was not run after it was added) fails. This runs
   Django's own extraction (so templates, `blocktranslate`, contexts and
   plurals are found exactly as `makemessages` finds them) but only reads the
   resulting .pot: the .po files are never written.

Fix a failure with:
    DEBUG=1 .venv/bin/python manage.py makemessages -l km -l ko \\
        --ignore=.venv --ignore=bench --ignore=tests
then translate every new entry (and remove `#, fuzzy` only after checking the
translation), and `manage.py compilemessages --ignore=.venv`.
"""

from __future__ import annotations

import os
import re
import subprocess  # nosec B404  # runs msgfmt, a fixed program
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("km", "ko")
# The same as the makemessages command above: the catalogue covers the
# application, not the tests and benchmarks.
IGNORE = [".venv", "bench", "tests", "node_modules"]

Key = tuple[str, str]  # (msgctxt, msgid)


def po_path(language: str, domain: str = "django") -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


# --- a small reader of .po/.pot files (polib is not a dependency) ------------

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
_STRING = re.compile(r'^(".*")\s*$')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}


def _unquote(literal: str) -> str:
    body = literal.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def read_entries(path: Path) -> list[dict[str, str]]:
    """The non-obsolete entries of a .po/.pot file: each a dict of its keywords
    (msgctxt, msgid, msgid_plural, msgstr, msgstr[N]) plus "flags"."""
    entries: list[dict[str, str]] = []
    entry: dict[str, str] = {}
    current = None

    def close() -> None:
        nonlocal entry, current
        if "msgid" in entry:
            entries.append(entry)
        entry, current = {}, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#~"):  # obsolete: not compiled, not extracted
            current = None
            continue
        if line.startswith("#,"):
            if current is not None and current.startswith("msgstr"):
                close()
            entry["flags"] = entry.get("flags", "") + "," + line[2:]
            continue
        if line.startswith("#"):
            if current is not None and current.startswith("msgstr"):
                close()
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword = match.group(1)
            if (
                keyword in ("msgctxt", "msgid")
                and current is not None
                and current.startswith("msgstr")
            ):
                close()
            current = keyword
            entry[keyword] = _unquote(match.group(2))
            continue
        match = _STRING.match(line)
        if match and current is not None:
            entry[current] += _unquote(match.group(1))
    close()
    return [e for e in entries if e.get("msgid")]  # drop the header


def keys(entries: list[dict[str, str]]) -> set[Key]:
    return {(e.get("msgctxt", ""), e["msgid"]) for e in entries}


# --- check 1: complete and well-formed -----------------------------------------


def statistics(path: Path) -> tuple[dict[str, int], str]:
    """msgfmt's counts ({"translated", "fuzzy", "untranslated"}) and its error output."""
    result = subprocess.run(  # noqa: S603  # nosec B603 B607  # fixed program and arguments
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stderr
    counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for number, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", output):
        counts[kind] = int(number)
    errors = "" if result.returncode == 0 else output.strip()
    return counts, errors


# --- check 2: nothing marked in the code is missing from the catalogue ----------


def extracted_keys() -> set[Key]:
    """The msgids `makemessages` finds in the code today, without touching the .po files."""
    import django
    from django.core.management.commands import makemessages

    django.setup()
    found: set[Key] = set()

    class Extract(makemessages.Command):
        def write_po_file(self, potfile: str, locale: str) -> None:
            # Called with the fresh .pot instead of merging it into the .po.
            found.update(keys(read_entries(Path(potfile))))

    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        Extract().run_from_argv(
            ["manage.py", "makemessages", "-l", LANGUAGES[0], "--verbosity", "0"]
            + [f"--ignore={pattern}" for pattern in IGNORE]
        )
    finally:
        os.chdir(previous)
    return found


def main() -> int:
    problems: list[str] = []
    catalogues: dict[str, set[Key]] = {}
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            problems.append(f"{language}: {path.relative_to(ROOT)} is missing")
            continue
        counts, errors = statistics(path)
        if counts["untranslated"] or counts["fuzzy"]:
            problems.append(
                f"{language}: {counts['untranslated']} untranslated and {counts['fuzzy']} fuzzy "
                f"messages ({counts['translated']} translated)"
            )
        if errors:
            problems.append(f"{language}: msgfmt --check fails:\n{errors}")
        catalogues[language] = keys(read_entries(path))
        javascript = po_path(language, "djangojs")
        if javascript.exists():
            counts, errors = statistics(javascript)
            if counts["untranslated"] or counts["fuzzy"]:
                problems.append(
                    f"{language} (djangojs): {counts['untranslated']} untranslated and "
                    f"{counts['fuzzy']} fuzzy messages"
                )
            if errors:
                problems.append(f"{language} (djangojs): msgfmt --check fails:\n{errors}")

    extracted = extracted_keys()
    for language, known in catalogues.items():
        missing = sorted(extracted - known)
        if missing:
            shown = "\n".join(f"    {msgid!r}" for _, msgid in missing[:20])
            more = f"\n    … and {len(missing) - 20} more" if len(missing) > 20 else ""
            problems.append(
                f"{language}: {len(missing)} msgids marked in the code are not in the "
                f"catalogue (run makemessages):\n{shown}{more}"
            )
        stale = len(known - extracted)
        if stale:
            print(f"{language}: note: {stale} catalogue entries are no longer in the code.")

    if problems:
        print("Translations are incomplete:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(__doc__.split("Fix a failure with:")[1].rstrip(), file=sys.stderr)
        return 1
    print(f"Translations complete: {', '.join(LANGUAGES)} ({len(extracted)} messages).")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")  # settings need a SECRET_KEY otherwise
    sys.exit(main())
