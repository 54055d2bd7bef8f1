"""The gate's rule for the network: a child of its case, with its own
handling code; a link or a transaction only with both of its ends; victims
kept in the recording agency unless it lowers their code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.choices import AgencyKind
from cases import access, mla, networks, services
from cases.choices import AccessLevel, EntityKind, HandlingCode, LinkKind, PersonRole
from cases.deconfliction import add_identifier
from cases.models import Asset, Case, Entity, Link, Transaction
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_user

from .trace_world import kr_account

pytestmark = pytest.mark.django_db

SELECTORS = {
    Entity: access.visible_entities,
    Link: access.visible_links,
    Transaction: access.visible_transactions,
    Asset: access.visible_assets,
}


def _on_case(user, model, case):
    """The case page's list of `model` (`visible_on_case`)."""
    (case,) = access.require_many(user, "view", Case.objects.filter(pk=case.pk), count=1)
    return access.visible_on_case(user, model, case)


@pytest.fixture
def frozen(shared_case, knp_coordinator, ccos, mule_account):
    return networks.record_asset(
        actor=knp_coordinator,
        case=shared_case,
        kind="bank_balance",
        description="Balance of the mule account at Shinhan Bank",
        value=Decimal("18500000"),
        currency="KRW",
        state="frozen",
        state_on=timezone.localdate(),
        holding_agency=ccos,
        identifier=mule_account,
    )


@pytest.fixture
def control(shared_case, kh_investigator, operator, wallet):
    return networks.create_link(
        actor=kh_investigator,
        case=shared_case,
        kind=LinkKind.HOLDS_WALLET,
        from_entity=operator,
        to_identifier=wallet,
    )


def test_the_outsider_sees_no_network_object(
    outsider, operator, company, control, transfer, frozen
):
    for model, selector in SELECTORS.items():
        assert not selector(outsider).exists(), model
    for obj in (operator, company, control, transfer, frozen):
        assert not access.is_visible(outsider, obj)


def test_a_partner_sees_what_each_agency_recorded(
    kh_viewer, knp_viewer, operator, company, control, transfer, frozen
):
    for reader in (kh_viewer, knp_viewer):
        assert set(access.visible_entities(reader)) == {operator, company}
        assert list(access.visible_links(reader)) == [control]
        assert list(access.visible_transactions(reader)) == [transfer]
        assert list(access.visible_assets(reader)) == [frozen]


@pytest.mark.parametrize("code", [HandlingCode.RED, HandlingCode.AMBER_STRICT])
def test_an_agency_only_entity_stays_with_its_agency(
    shared_case, knp_coordinator, knp_viewer, kh_viewer, code
):
    informant = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.PERSON, name="Informant",
        handling_code=code,
    )  # fmt: skip
    assert informant in access.visible_entities(knp_viewer)
    assert informant not in access.visible_entities(kh_viewer)
    assert not access.can(kh_viewer, "view", informant)


def test_a_victim_is_red_and_stays_with_the_recording_agency(victim, knp_viewer, kh_viewer):
    assert victim.handling_code == HandlingCode.RED
    assert victim in access.visible_entities(knp_viewer)
    assert victim not in access.visible_entities(kh_viewer)


def test_a_victim_recorded_with_a_handling_code_is_shared_as_said(
    shared_case, knp_coordinator, kh_viewer
):
    victim = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.PERSON, name="Park Ji-hoon",
        role=PersonRole.VICTIM, handling_code=HandlingCode.AMBER,
    )  # fmt: skip
    assert victim in access.visible_entities(kh_viewer)


def test_lowering_a_victims_code_shares_the_victim(victim, knp_coordinator, kh_viewer):
    networks.update_entity(actor=knp_coordinator, entity=victim, handling_code=HandlingCode.AMBER)
    assert victim in access.visible_entities(kh_viewer)


def test_a_person_recast_as_victim_becomes_red(operator, kh_investigator, knp_viewer):
    networks.update_entity(actor=kh_investigator, entity=operator, role=PersonRole.VICTIM)
    operator.refresh_from_db()
    assert operator.handling_code == HandlingCode.RED
    assert operator not in access.visible_entities(knp_viewer)


def test_a_link_to_a_hidden_end_is_hidden(
    shared_case, knp_coordinator, kh_investigator, kh_viewer, knp_viewer, wallet
):
    informant = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.PERSON, name="Informant",
        handling_code=HandlingCode.RED,
    )  # fmt: skip
    link = networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.USES_PHONE,
        from_entity=informant, to_identifier=wallet,
    )  # fmt: skip
    assert link in access.visible_links(knp_viewer)
    assert link not in access.visible_links(kh_viewer)
    # The case page asks the ends once for the case (`visible_on_case`): the same.
    assert link in _on_case(knp_viewer, Link, shared_case)
    assert link not in _on_case(kh_viewer, Link, shared_case)


def test_a_transaction_from_a_hidden_account_is_hidden(
    shared_case, knp_coordinator, knp_viewer, kh_viewer, mule_account
):
    secret = add_identifier(
        actor=knp_coordinator, case=shared_case, kind="iban",
        value="DE89370400440532013000", handling_code=HandlingCode.RED,
    )  # fmt: skip
    record = networks.record_transaction(
        actor=knp_coordinator, case=shared_case, from_identifier=secret,
        to_identifier=mule_account, amount="1000", currency="EUR",
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )  # fmt: skip
    assert record in access.visible_transactions(knp_viewer)
    assert record not in access.visible_transactions(kh_viewer)
    assert record in _on_case(knp_viewer, Transaction, shared_case)
    assert record not in _on_case(kh_viewer, Transaction, shared_case)


def test_a_red_transaction_stays_with_its_agency(transfer, knp_coordinator, kh_viewer):
    networks.update_transaction(
        actor=knp_coordinator, record=transfer, handling_code=HandlingCode.RED
    )
    assert transfer not in access.visible_transactions(kh_viewer)


def test_a_hidden_parent_is_not_shown(shared_case, knp_coordinator, kh_viewer, knp_viewer):
    group = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Prince Casino Group", handling_code=HandlingCode.RED,
    )  # fmt: skip
    shell = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Golden Sands", parent=group,
    )  # fmt: skip
    assert access.visible_entities(knp_viewer).get(pk=shell.pk).parent_shown
    assert not access.visible_entities(kh_viewer).get(pk=shell.pk).parent_shown


def test_a_hidden_source_note_is_not_shown(
    shared_case, knp_coordinator, knp_viewer, kh_viewer, operator, wallet
):
    note = services.add_note(
        actor=knp_coordinator, case=shared_case, body="Informant says", handling_code="RED"
    )
    link = networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
        from_entity=operator, to_identifier=wallet, source_note=note,
    )  # fmt: skip
    assert access.visible_links(knp_viewer).get(pk=link.pk).source_note_shown
    assert not access.visible_links(kh_viewer).get(pk=link.pk).source_note_shown


def test_an_asset_names_its_mla_request_only_to_the_requests_parties(
    shared_case, knp_coordinator, kh_viewer, knp_viewer, frozen
):
    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    request = mla.submit_mla_request(
        actor=knp_coordinator, request=draft(knp_coordinator, shared_case, kh_moj)
    )
    networks.update_asset(actor=knp_coordinator, asset=frozen, mla_request=request)
    assert access.visible_assets(knp_viewer).get(pk=frozen.pk).mla_request_shown
    assert not access.visible_assets(kh_viewer).get(pk=frozen.pk).mla_request_shown


def test_a_confidential_agencys_entity_is_hidden_from_the_other_participants(
    co_managed, php, knp_coordinator, kh_coordinator
):
    php_investigator = make_user(php, "investigator")
    services.change_access(
        actor=knp_coordinator,
        participation=co_managed.participations.get(agency=php),
        level=AccessLevel.CONTRIBUTE,
    )
    entity = networks.create_entity(
        actor=php_investigator, case=co_managed, kind=EntityKind.PLACE, name="Compound KK5",
    )  # fmt: skip
    assert entity in access.visible_entities(knp_coordinator)  # the lead sees everything
    assert entity not in access.visible_entities(kh_coordinator)


def test_a_confidential_agencys_transaction_is_hidden_from_the_other_participants_case_page(
    co_managed, php, knp_coordinator, kh_coordinator
):
    """Between two of the lead's accounts, which every participant sees: only
    the recording agency decides (the case page asks it knowing the lead)."""
    php_investigator = make_user(php, "investigator")
    services.change_access(
        actor=knp_coordinator,
        participation=co_managed.participations.get(agency=php),
        level=AccessLevel.CONTRIBUTE,
    )
    sender, recipient = (
        kr_account(knp_coordinator, co_managed, f"356-0123-4567-8{n}") for n in (3, 4)
    )
    record = networks.record_transaction(
        actor=php_investigator, case=co_managed, from_identifier=sender,
        to_identifier=recipient, amount="500", currency="USD",
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )  # fmt: skip
    assert record in _on_case(knp_coordinator, Transaction, co_managed)  # the lead
    assert record in _on_case(php_investigator, Transaction, co_managed)  # its own
    assert record not in _on_case(kh_coordinator, Transaction, co_managed)
    assert record not in access.visible_transactions(kh_coordinator)


def test_a_partner_of_a_revoked_case_sees_nothing_more(
    shared_case, knp_coordinator, kh_viewer, ccos, operator, transfer
):
    services.revoke_case(
        actor=knp_coordinator, participation=shared_case.participations.get(agency=ccos)
    )
    for selector in SELECTORS.values():
        assert not selector(kh_viewer).exists()


def test_the_case_pages_lists_equal_the_selectors(
    shared_case, knp_coordinator, kh_viewer, victim, operator, control, transfer, frozen
):
    (case,) = access.require_many(
        kh_viewer, "view", Case.objects.filter(pk=shared_case.pk), count=1
    )
    for model, selector in SELECTORS.items():
        on_case = access.visible_on_case(kh_viewer, model, case)
        assert set(on_case) == set(selector(kh_viewer).filter(case=shared_case)), model


def test_state_changes_follow_their_asset(frozen, knp_viewer, kh_viewer, outsider):
    assert access.visible_asset_state_changes(knp_viewer).count() == 1
    assert access.visible_asset_state_changes(kh_viewer).count() == 1
    assert not access.visible_asset_state_changes(outsider).exists()
