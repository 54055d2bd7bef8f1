"""`cases.mla_forms`: the sections' answers stored as the API's `details`, and
read back as labelled text."""

from cases import mla_forms
from cases.choices import AssistanceType


def test_asset_measures_read_as_words():
    details = {AssistanceType.ASSET_RECOVERY: {"measures": ["tracing", "freezing"]}}

    [(title, rows)] = mla_forms.details_as_rows(details)

    assert title == "Asset tracing, freezing or confiscation"
    assert rows == [("Measures sought", ["Tracing", "Freezing or seizure"])]


def test_keys_the_form_does_not_know_are_shown_by_name():
    details = {AssistanceType.OTHER: {"description": "Interview", "court_order": "No. 12"}}

    [(_title, rows)] = mla_forms.details_as_rows(details)

    assert rows == [("Assistance sought", "Interview"), ("court order", "No. 12")]


def test_stored_details_fill_the_form_back():
    details = {
        AssistanceType.BANK_RECORDS: {
            "bank_identifiers": ["ACLEDA Bank Plc (ACLBKHPP)", "ABA Bank (ABAAKHPP)"],
            "period_start": "2025-01-01",
        }
    }

    initial = mla_forms.initial_from_details(details)

    assert initial["bank_records__bank_identifiers"] == (
        "ACLEDA Bank Plc (ACLBKHPP)\nABA Bank (ABAAKHPP)"
    )
    assert str(initial["bank_records__period_start"]) == "2025-01-01"


def test_missing_keys_are_named_in_words():
    assert mla_forms.where_in_words("details.bank_records.period_start") == (
        "Bank records — Period from"
    )
    assert mla_forms.where_in_words("facts") == "Summary of facts"
