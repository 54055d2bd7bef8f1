"""TLP 2.0 and SIENA handling codes.

AMBER+STRICT never leaves the owning organisation (TLP 2.0); RED is for the
named recipients, here the authoring agency; SIENA H3 is a restriction that
only means something if it is written out.
"""

from __future__ import annotations

import pytest

from cases import access, services
from cases.choices import AccessLevel, HandlingCode
from gate.errors import ValidationFailed

from .helpers import unchanged


@pytest.fixture
def strict_case(knp_coordinator):
    return services.create_case(
        actor=knp_coordinator, title="Insider at a bank", handling_code=HandlingCode.AMBER_STRICT
    )


def test_amber_strict_case_cannot_be_shared(strict_case, knp_coordinator, ccos):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.share_case(
            actor=knp_coordinator, case=strict_case, agency=ccos, level=AccessLevel.VIEW
        )
    assert "agency" in exc.value.errors


def test_amber_strict_case_cannot_be_handed_over(strict_case, knp_coordinator, ccos):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.hand_over_case(actor=knp_coordinator, case=strict_case, new_lead=ccos)
    assert "new_lead" in exc.value.errors


def test_shared_case_cannot_become_amber_strict(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        services.update_case(
            actor=knp_coordinator, case=shared_case, handling_code=HandlingCode.AMBER_STRICT
        )
    assert "handling_code" in exc.value.errors


def test_case_becomes_amber_strict_once_nobody_else_participates(
    shared_case, knp_coordinator, ccos
):
    participation = shared_case.participations.get(agency=ccos)
    services.revoke_case(actor=knp_coordinator, participation=participation)
    case = services.update_case(
        actor=knp_coordinator, case=shared_case, handling_code=HandlingCode.AMBER_STRICT
    )
    assert case.handling_code == HandlingCode.AMBER_STRICT


@pytest.mark.parametrize("code", [HandlingCode.RED, HandlingCode.AMBER_STRICT])
def test_agency_only_note_is_hidden_from_other_agencies(
    shared_case, knp_coordinator, knp_viewer, kh_investigator, kh_viewer, code
):
    knp_note = services.add_note(
        actor=knp_coordinator, case=shared_case, body="Source identity", handling_code=code
    )
    kh_note = services.add_note(
        actor=kh_investigator, case=shared_case, body="Informant", handling_code=code
    )
    # The author's own agency, any role, sees it; the other agency does not,
    # even when it is the lead.
    assert knp_note in access.visible_notes(knp_viewer)
    assert knp_note not in access.visible_notes(kh_viewer)
    assert kh_note in access.visible_notes(kh_viewer)
    assert kh_note not in access.visible_notes(knp_viewer)
    assert not access.can(knp_viewer, "view", kh_note)


@pytest.mark.parametrize("code", [HandlingCode.CLEAR, HandlingCode.GREEN, HandlingCode.AMBER])
def test_shareable_note_is_seen_by_every_participant(shared_case, knp_coordinator, kh_viewer, code):
    note = services.add_note(actor=knp_coordinator, case=shared_case, body="b", handling_code=code)
    assert note in access.visible_notes(kh_viewer)


@pytest.mark.parametrize("restriction", ["", "   "])
def test_h3_without_restriction_text_is_refused_everywhere(
    shared_case, knp_coordinator, restriction
):
    h3 = {"handling_instruction": "H3", "handling_restriction": restriction}
    for call in (
        lambda: services.create_case(actor=knp_coordinator, title="x", **h3),
        lambda: services.update_case(actor=knp_coordinator, case=shared_case, **h3),
        lambda: services.add_note(actor=knp_coordinator, case=shared_case, body="b", **h3),
    ):
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            call()
        assert "handling_restriction" in exc.value.errors


def test_h3_with_restriction_text_is_accepted(shared_case, knp_coordinator):
    note = services.add_note(
        actor=knp_coordinator,
        case=shared_case,
        body="b",
        handling_instruction="H3",
        handling_restriction="Not to be shown to the suspect's embassy.",
    )
    assert note.handling_instruction == "H3"
