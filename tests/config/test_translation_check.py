"""scripts/check_translations.py, run by `make lint`: catalogues complete and up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location(
        "check_translations", ROOT / "scripts" / "check_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def po(tmp_path, body: str) -> Path:
    path = tmp_path / "django.po"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_a_complete_catalogue_passes(check, tmp_path):
    counts, errors = check.statistics(po(tmp_path, 'msgid "Draft"\nmsgstr "초안"\n'))
    assert counts == {"translated": 1, "fuzzy": 0, "untranslated": 0}
    assert errors == ""


def test_untranslated_and_fuzzy_entries_are_counted(check, tmp_path):
    path = po(
        tmp_path,
        'msgid "Draft"\nmsgstr ""\n\n#, fuzzy\nmsgid "Submitted"\nmsgstr "초안"\n\n'
        'msgid "Executed"\nmsgstr "집행 완료"\n',
    )
    counts, _ = check.statistics(path)
    assert counts == {"translated": 1, "fuzzy": 1, "untranslated": 1}


def test_a_translation_that_loses_a_placeholder_is_an_error(check, tmp_path):
    path = po(
        tmp_path,
        '#, python-format\nmsgid "Case %(ref)s was shared."\nmsgstr "사건이 공유되었습니다."\n',
    )
    _, errors = check.statistics(path)
    assert "ref" in errors


def test_entries_are_read_with_contexts_plurals_and_continuations(check, tmp_path):
    path = po(
        tmp_path,
        'msgctxt "language name"\nmsgid "Khmer"\nmsgstr "크메르어"\n\n'
        'msgid "%(n)d result"\nmsgid_plural "%(n)d results"\nmsgstr[0] "결과 %(n)d건"\n\n'
        'msgid ""\n"two "\n"lines \\"quoted\\""\nmsgstr "두 줄"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "없음"\n',
    )
    entries = check.read_entries(path)
    assert check.keys(entries) == {
        ("language name", "Khmer"),
        ("", "%(n)d result"),
        ("", 'two lines "quoted"'),
    }
    plural = next(e for e in entries if e["msgid"] == "%(n)d result")
    assert plural["msgid_plural"] == "%(n)d results"
    assert plural["msgstr[0]"] == "결과 %(n)d건"


def test_extraction_finds_the_marked_strings_without_writing_the_catalogues(check):
    catalogues = [ROOT / "locale" / lang / "LC_MESSAGES" / "django.po" for lang in ("km", "ko")]
    before = [path.read_bytes() for path in catalogues]
    extracted = check.extracted_keys()
    assert ("", "Change language") in extracted  # templates/admin/base_site.html
    assert ("", "Dates and times on these pages are shown in this time zone.") in extracted
    assert [path.read_bytes() for path in catalogues] == before
    assert not (ROOT / "locale" / "django.pot").exists()
