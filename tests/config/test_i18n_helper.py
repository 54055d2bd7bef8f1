"""tests/i18n.py: which English strings of the catalogue a translated page still shows."""

from __future__ import annotations

import pytest

from tests.i18n import english_leftovers

CATALOGUE = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: cases/admin/mla.py:1
msgid "Next steps"
msgstr "다음 단계"

msgid "requested agency"
msgstr "피요청 기관"

msgid "Draft"
msgstr "초안"

#, python-format
msgid "Case %(ref)s was shared with your agency."
msgstr "사건 %(ref)s이(가) 소속 기관과 공유되었습니다."

#, python-format
msgid "Change %(name)s"
msgstr "%(name)s 변경"

#, python-format
msgid "%(count)s selected"
msgid_plural "All %(count)s selected"
msgstr[0] "%(count)s개 선택됨"

msgid "Search"
msgstr "검색"

msgid "to"
msgstr "이후"

msgid "TRON"
msgstr "트론(TRON)"

msgid "SHA-256"
msgstr "SHA-256 해시"

msgid "Casebridge"
msgstr "Casebridge"

msgid "Bitcoin"
msgstr "Bitcoin (비트코인)"

msgid "English"
msgstr "영어"

msgid "Not yet translated"
msgstr ""

#, fuzzy
msgid "Guessed by msgmerge"
msgstr "추측"

msgid ""
"A sentence written "
"on two lines."
msgstr "두 줄에 쓴 문장."

#~ msgid "Obsolete sentence"
#~ msgstr "폐기된 문장"
"""


@pytest.fixture
def catalogue(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


def leftovers(text: str, catalogue) -> list[str]:
    return english_leftovers(text, "ko", catalogue=catalogue)


def test_a_fully_translated_page_has_no_leftovers(catalogue):
    assert leftovers("다음 단계 · 피요청 기관 · 초안 · 검색", catalogue) == []


def test_an_english_msgid_on_the_page_is_reported(catalogue):
    assert leftovers("다음 단계 Next steps 검색", catalogue) == ["Next steps"]


def test_matches_are_on_word_boundaries(catalogue):
    assert leftovers("Researching the Drafts", catalogue) == []
    assert leftovers("(Draft)", catalogue) == ["Draft"]


def test_a_capitalised_or_upper_case_msgid_is_found(catalogue):
    assert leftovers("Requested agency: KH-MOJ", catalogue) == ["requested agency"]
    assert leftovers("NEXT STEPS", catalogue) == ["Next steps"]


def test_placeholders_match_the_text_put_in_their_place(catalogue):
    text = "Case KR-KNP-2026-0001 was shared with your agency."
    assert leftovers(text, catalogue) == ["Case %(ref)s was shared with your agency."]


def test_a_single_word_in_capitals_is_a_code_not_a_leftover(catalogue):
    assert leftovers("TLP:DRAFT", catalogue) == []


def test_data_shown_as_typed_is_not_a_leftover(catalogue):
    text = "Search warrant: Next steps agreed with KNP"
    assert english_leftovers(text, "ko", catalogue=catalogue) == ["Next steps", "Search"]
    assert (
        english_leftovers(
            text, "ko", data=["Search warrant: Next steps agreed with KNP"], catalogue=catalogue
        )
        == []
    )


def test_plural_forms_are_checked_too(catalogue):
    assert leftovers("All 12 selected", catalogue) == ["All %(count)s selected"]


def test_a_placeholder_msgid_needs_two_literal_words(catalogue):
    assert leftovers("Change password", catalogue) == []


def test_short_msgids_and_codes_are_ignored(catalogue):
    assert leftovers("from A to B, TRON wallet, SHA-256 hash", catalogue) == []


def test_msgids_kept_in_translations_are_ignored(catalogue):
    assert leftovers("Casebridge · Bitcoin (비트코인)", catalogue) == []


def test_language_names_shown_in_themselves_are_ignored(catalogue):
    assert leftovers("English · ខ្មែរ · 한국어", catalogue) == []


def test_untranslated_fuzzy_and_obsolete_entries_are_ignored(catalogue):
    text = "Not yet translated. Guessed by msgmerge. Obsolete sentence."
    assert leftovers(text, catalogue) == []


def test_multi_line_msgids_are_read_whole(catalogue):
    assert leftovers("A sentence written on two lines.", catalogue) == [
        "A sentence written on two lines."
    ]


def test_a_short_msgid_inside_a_longer_leftover_is_not_listed_again(catalogue):
    assert leftovers("Requested agency Draft", catalogue) == ["Draft", "requested agency"]
    text = "Case KR-1 was shared with your agency. Search"
    assert leftovers(text, catalogue) == ["Case %(ref)s was shared with your agency.", "Search"]


@pytest.mark.parametrize(("language", "translated"), [("ko", "언어 변경"), ("km", "ប្ដូរភាសា")])
def test_the_project_catalogue_is_used_by_default(language, translated):
    assert english_leftovers(f"{translated} Change language", language) == ["Change language"]
    assert english_leftovers(translated, language) == []
