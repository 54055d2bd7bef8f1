"""English left on a translated page: the story tests' check of the catalogue.

`english_leftovers(page_text, "ko")` answers the strings of the project's
catalogue (locale/<lang>/LC_MESSAGES/django.po) that a Korean page still shows
in English: a template that forgot `{% translate %}`, a label built from an
unmarked string, a message rendered before the language was activated.

Only what is evidence of a missing translation counts:
- translated entries whose msgstr differs from the msgid (the rest may
  legitimately read the same in both languages);
- msgids with at least 4 characters and some lower-case words once
  placeholders are removed (not "%(count)s", "TLP:RED", "SHA-256", "IBAN");
- msgids that no translation of the catalogue itself contains ("Bitcoin" is
  kept in its Khmer translation "Bitcoin (ប៊ីតខញ)", "Casebridge" everywhere),
  and not the native names of `settings.LANGUAGES` (the picker shows
  "English" on purpose).

Matching is on word boundaries; the msgid may appear as written, with a
capital first letter (Django's `capfirst` on verbose names) or, when it has
two words or more, in capitals (CSS `text-transform`). Pass the data the page
shows as typed (agency names, English case titles) as `data`.

A placeholder such as %(ref)s matches any short text on the same line, so
"Case KR-1 was shared with your agency." is found too; msgids with
placeholders need two literal words, so "Change %(name)s" does not match
every "Change …".
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# %(name)s, %(n)d, %(mib).0f, %s, %d, {name}, {0}, {}
_PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdfirxXeEgGc]|%[sdfir]|\{[\w.]*\}")
_WORD = re.compile(r"[^\W\d_]{2,}")
_LOWER_WORD = re.compile(r"[a-z]{2,}")


def _read_entries(path: Path) -> list[dict[str, str]]:
    """The .po reader of scripts/check_translations.py (one reader, one set of rules)."""
    spec = importlib.util.spec_from_file_location(
        "check_translations", ROOT / "scripts" / "check_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_entries(path)


def _is_evidence(msgid: str) -> bool:
    """Long enough, and words rather than placeholders, punctuation or codes."""
    if len(msgid) < 4:
        return False
    literal = _PLACEHOLDER.sub(" ", msgid)
    if not _LOWER_WORD.search(literal):
        return False
    # With placeholders, two literal words at least ("Change %(name)s" is too loose).
    return literal == msgid or len(_WORD.findall(literal)) >= 2


def _pattern(msgid: str) -> re.Pattern[str]:
    """The msgid as written, capitalised or in capitals; placeholders as wildcards."""
    variants = {msgid, msgid[:1].upper() + msgid[1:]}
    if len(_WORD.findall(msgid)) >= 2:  # a lone "Clear" in capitals is TLP:CLEAR, a code
        variants.add(msgid.upper())
    alternatives = []
    for variant in sorted(variants):
        pieces = _PLACEHOLDER.split(variant)
        body = r"[^\n]{1,80}?".join(re.escape(piece) for piece in pieces)
        alternatives.append(body)
    start = r"(?<!\w)" if re.match(r"\w", msgid) else ""
    end = r"(?!\w)" if re.search(r"\w$", msgid) else ""
    return re.compile(start + "(?:" + "|".join(alternatives) + ")" + end)


def catalogue_path(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


@lru_cache(maxsize=8)
def _catalogue(path: Path, mtime: float) -> tuple[tuple[str, re.Pattern[str]], ...]:
    from django.conf import settings

    entries = [e for e in _read_entries(path) if "fuzzy" not in e.get("flags", "")]
    # One text, one translation a line: a wildcard never spans two of them.
    translations = "\n".join(
        value.replace("\n", " ")
        for e in entries
        for key, value in e.items()
        if key.startswith("msgstr")
    )
    native_names = {str(name) for _, name in settings.LANGUAGES}
    checks: dict[str, re.Pattern[str]] = {}
    for entry in entries:
        strings = [value for key, value in entry.items() if key.startswith("msgstr")]
        if not any(strings):
            continue  # untranslated: scripts/check_translations.py reports it
        for msgid in filter(None, (entry["msgid"], entry.get("msgid_plural"))):
            if msgid in strings or msgid in native_names or not _is_evidence(msgid):
                continue
            pattern = _pattern(msgid)
            if pattern.search(translations):
                continue  # the catalogue's own translations keep this English
            checks[msgid] = pattern
    return tuple(sorted(checks.items()))


def english_leftovers(
    page_text: str,
    language: str,
    *,
    data: Iterable[str] = (),
    catalogue: Path | None = None,
) -> list[str]:
    """The catalogue's msgids that `page_text` (a page's visible text) shows untranslated.

    `data`: what people typed or named and the page rightly shows as is (agency
    names such as "Korean National Police Agency", a case summary written in
    English); it is blanked out before matching. A msgid found only inside the
    match of a longer one ("case" inside "Case KR-1 was shared with your
    agency.") is not listed again. `catalogue` replaces the project's .po (for
    the helper's own tests)."""
    for text in sorted(filter(None, data), key=len, reverse=True):
        page_text = page_text.replace(text, "\n")
    path = catalogue or catalogue_path(language)
    found = []
    for msgid, pattern in _catalogue(path, path.stat().st_mtime):
        spans = [match.span() for match in pattern.finditer(page_text)]
        if spans:
            found.append((msgid, spans))
    found.sort(key=lambda item: max(end - start for start, end in item[1]), reverse=True)
    covered: list[tuple[int, int]] = []
    leftovers = []
    for msgid, spans in found:
        alone = [
            (start, end)
            for start, end in spans
            if not any(c_start <= start and end <= c_end for c_start, c_end in covered)
        ]
        if alone:
            leftovers.append(msgid)
            covered.extend(alone)
    return sorted(leftovers)
