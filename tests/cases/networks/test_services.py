"""Writing the network: who may, what is refused (400 by field, nothing
changed), and the audit trail of each write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.choices import AgencyKind
from audit.models import AuditAction
from cases import networks, services
from cases.choices import AssetState, EntityKind, LinkKind, PersonRole
from cases.deconfliction import add_identifier
from cases.models import Asset, Entity
from gate.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_case

from .conftest import MULE_WALLET
from .helpers import audit_of, unchanged

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.now() - dt.timedelta(days=1)


def _person(actor, case, **fields):
    fields.setdefault("name", "Chen Wei")
    return networks.create_entity(actor=actor, case=case, kind=EntityKind.PERSON, **fields)


def _asset(actor, case, **fields):
    values = {
        "kind": "crypto",
        "description": "USDT on the compound's hot wallet",
        "value": Decimal("120000"),
        "currency": "USDT-TRC20",
        "state": AssetState.FROZEN,
        "state_on": timezone.localdate() - dt.timedelta(days=10),
        **fields,
    }
    return networks.record_asset(actor=actor, case=case, **values)


# --- who may write -------------------------------------------------------------------


def test_recording_an_entity_is_audited_without_its_name(operator):
    (event,) = audit_of(operator)
    assert event.action == AuditAction.CREATE
    assert event.changes["kind"] == {"before": None, "after": "person"}
    assert "Chen Wei" not in str(event.changes)


def test_a_viewer_cannot_add_to_the_network(shared_case, kh_viewer):
    with unchanged(), pytest.raises(PermissionDenied):
        _person(kh_viewer, shared_case)


def test_an_outsider_adding_to_a_hidden_case_gets_not_found(shared_case, outsider):
    with unchanged(), pytest.raises(NotFound):
        _person(outsider, shared_case)


def test_another_agency_cannot_change_what_an_agency_recorded(operator, knp_coordinator):
    with unchanged(), pytest.raises(PermissionDenied):
        networks.update_entity(actor=knp_coordinator, entity=operator, name="Someone else")


def test_a_closed_case_takes_no_new_entity(case, knp_coordinator):
    services.change_case_status(actor=knp_coordinator, case=case, status="closed")
    with unchanged(), pytest.raises(Conflict):
        _person(knp_coordinator, case)


def test_a_stale_version_is_refused(operator, kh_investigator):
    networks.update_entity(actor=kh_investigator, entity=operator, name="Chen Wei (陈伟)")
    with unchanged(), pytest.raises(PreconditionFailed):
        networks.update_entity(
            actor=kh_investigator, entity=operator, expected_version=1, name="Chen"
        )


# --- entities -------------------------------------------------------------------------


def test_an_entity_keeps_names_in_any_script(operator):
    operator.refresh_from_db()
    assert operator.aliases == ["陈伟", "Boss Chen"]


def test_updating_an_entity_is_audited_and_versioned(operator, kh_investigator):
    entity = networks.update_entity(
        actor=kh_investigator, entity=operator, name="Chen Wei", aliases=["ចេន វេ"]
    )
    assert entity.version == 2
    event = audit_of(operator)[-1]
    assert event.action == AuditAction.UPDATE
    assert event.changes == {"aliases": "[changed]", "name": "[changed]"}


def test_fields_of_another_kind_are_refused(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        _person(knp_coordinator, shared_case, registration_number="123", latitude="10.6")
    assert set(exc.value.errors) >= {"registration_number", "latitude"}


def test_bad_entity_fields_are_all_named(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        _person(
            knp_coordinator,
            shared_case,
            name=" ",
            nationality="Atlantis",
            date_of_birth="1800-01-01",
            aliases="not a list",
        )
    assert set(exc.value.errors) == {"name", "nationality", "date_of_birth", "aliases"}


def test_coordinates_out_of_range_are_refused(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_entity(
            actor=knp_coordinator, case=shared_case, kind=EntityKind.PLACE,
            name="Compound", latitude="95", longitude="103.5",
        )  # fmt: skip
    assert "latitude" in exc.value.errors


def test_a_place_gets_both_coordinates_or_none(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_entity(
            actor=knp_coordinator, case=shared_case, kind=EntityKind.PLACE,
            name="Compound", latitude="10.6",
        )  # fmt: skip
    assert "longitude" in exc.value.errors


def test_a_place_keeps_its_coordinates(shared_case, knp_coordinator):
    place = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.PLACE,
        name="Golden Fortune compound", address="Otres 2, Sihanoukville", country="KHM",
        latitude="10.5853", longitude="103.5287",
    )  # fmt: skip
    place.refresh_from_db()
    assert (place.country, place.latitude, place.longitude) == (
        "KH",
        Decimal("10.585300"),
        Decimal("103.528700"),
    )


def test_a_parent_must_be_an_organisation_on_the_same_case(
    shared_case, knp_coordinator, company, operator
):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_entity(
            actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
            name="Subsidiary", parent=operator,
        )  # fmt: skip
    assert "parent" in exc.value.errors


def test_an_organisation_cannot_become_its_own_subsidiarys_subsidiary(
    shared_case, knp_coordinator, company
):
    child = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Golden Sands Payments", parent=company,
    )  # fmt: skip
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.update_entity(actor=knp_coordinator, entity=company, parent=child)
    assert "parent" in exc.value.errors


def test_a_parent_on_a_case_the_writer_cannot_see_is_unknown(
    shared_case, knp_coordinator, kh_coordinator
):
    hidden_case = make_case(kh_coordinator, title="KH-CCOS only")
    hidden = networks.create_entity(
        actor=kh_coordinator, case=hidden_case, kind=EntityKind.ORGANISATION, name="Prince Group"
    )
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_entity(
            actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
            name="Golden Sands", parent=hidden,
        )  # fmt: skip
    assert exc.value.errors == {"parent": ["Unknown entity."]}


def test_the_kind_of_an_entity_does_not_change(operator, kh_investigator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.update_entity(actor=kh_investigator, entity=operator, kind="place")
    assert "kind" in exc.value.errors


def test_deleting_an_entity_is_audited(shared_case, knp_coordinator):
    entity = _person(knp_coordinator, shared_case, role=PersonRole.WITNESS)
    public_id = entity.public_id
    networks.delete_entity(actor=knp_coordinator, entity=entity)
    assert not Entity.objects.filter(public_id=public_id).exists()
    assert audit_of(entity)[-1].action == AuditAction.DELETE


def test_a_linked_entity_is_not_deleted(operator, kh_investigator, wallet):
    networks.create_link(
        actor=kh_investigator, case=operator.case, kind=LinkKind.HOLDS_WALLET,
        from_entity=operator, to_identifier=wallet,
    )  # fmt: skip
    with unchanged(), pytest.raises(Conflict):
        networks.delete_entity(actor=kh_investigator, entity=operator)


# --- links ----------------------------------------------------------------------------


def test_a_link_records_its_source_and_evaluation(
    shared_case, knp_coordinator, operator, company, note
):
    link = networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.CONTROLS,
        from_entity=operator, to_entity=company, source_note=note,
        source_reliability="B", information_accuracy="2",
    )  # fmt: skip
    (event,) = audit_of(link)
    assert event.changes["source_note"]["after"] == str(note.public_id)
    assert (link.source_reliability, link.information_accuracy) == ("B", "2")


def test_a_link_needs_one_node_at_each_end(shared_case, knp_coordinator, operator, wallet):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_link(
            actor=knp_coordinator, case=shared_case, kind=LinkKind.OWNS,
            from_entity=operator, from_identifier=wallet,
        )  # fmt: skip
    assert set(exc.value.errors) == {"from_entity", "to_entity"}


def test_a_link_joins_two_different_nodes(shared_case, knp_coordinator, operator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_link(
            actor=knp_coordinator, case=shared_case, kind=LinkKind.ASSOCIATED_WITH,
            from_entity=operator, to_entity=operator,
        )  # fmt: skip
    assert "to_entity" in exc.value.errors


def test_a_link_to_a_node_of_a_hidden_case_is_refused_as_unknown(
    shared_case, knp_coordinator, kh_coordinator, operator
):
    hidden_case = make_case(kh_coordinator, title="KH-CCOS only")
    hidden = add_identifier(
        actor=kh_coordinator, case=hidden_case, kind="crypto_wallet", value=MULE_WALLET,
        chain="tron",
    )  # fmt: skip
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_link(
            actor=knp_coordinator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
            from_entity=operator, to_identifier=hidden,
        )  # fmt: skip
    assert exc.value.errors == {"to_identifier": ["Unknown identifier."]}


def test_a_link_to_a_node_of_another_visible_case_is_refused(
    shared_case, knp_coordinator, operator
):
    other_case = make_case(knp_coordinator, title="Another KR-KNP case")
    elsewhere = _person(knp_coordinator, other_case, name="Lee")
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.create_link(
            actor=knp_coordinator, case=shared_case, kind=LinkKind.ASSOCIATED_WITH,
            from_entity=operator, to_entity=elsewhere,
        )  # fmt: skip
    assert exc.value.errors == {"to_entity": ["It must be on the same case."]}


def test_a_links_ends_do_not_change(shared_case, knp_coordinator, operator, company):
    link = networks.create_link(
        actor=knp_coordinator, case=shared_case, kind=LinkKind.CONTROLS,
        from_entity=operator, to_entity=company,
    )  # fmt: skip
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.update_link(actor=knp_coordinator, link=link, to_entity=operator)
    assert "to_entity" in exc.value.errors


# --- transactions -------------------------------------------------------------------


def test_a_transaction_copies_its_ends_deconfliction_hashes(transfer, victim_account, mule_account):
    assert bytes(transfer.from_hash) == bytes(victim_account.value_hash)
    assert bytes(transfer.to_hash) == bytes(mule_account.value_hash)
    (event,) = audit_of(transfer)
    assert "25000000" not in str(event.changes)


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("-100", "KRW", "amount"),
        ("0", "KRW", "amount"),
        ("twelve", "KRW", "amount"),
        ("1e40", "KRW", "amount"),
        ("0.0000000000000000001", "KRW", "amount"),
        ("100", "US Dollars", "currency"),
        ("100", "usdt/trc20", "currency"),
        ("100", "", "currency"),
    ],
)
def test_bad_amounts_and_currencies_are_refused(
    shared_case, knp_coordinator, victim_account, mule_account, amount, currency, field
):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.record_transaction(
            actor=knp_coordinator, case=shared_case, from_identifier=victim_account,
            to_identifier=mule_account, amount=amount, currency=currency, occurred_at=YESTERDAY,
        )  # fmt: skip
    assert list(exc.value.errors) == [field]


def test_a_token_currency_is_upper_cased(shared_case, kh_investigator, wallet, mule_account):
    record = networks.record_transaction(
        actor=kh_investigator, case=shared_case, from_identifier=mule_account,
        to_identifier=wallet, amount="1520.5", currency="usdt-trc20", occurred_at=YESTERDAY,
    )  # fmt: skip
    assert record.currency == "USDT-TRC20"
    assert networks.is_iso_currency("KRW") and not networks.is_iso_currency("USDT")


def test_a_transaction_in_the_future_is_refused(
    shared_case, knp_coordinator, victim_account, mule_account
):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.record_transaction(
            actor=knp_coordinator, case=shared_case, from_identifier=victim_account,
            to_identifier=mule_account, amount="1", currency="KRW",
            occurred_at=timezone.now() + dt.timedelta(days=1),
        )  # fmt: skip
    assert list(exc.value.errors) == ["occurred_at"]


def test_money_moves_between_accounts_wallets_and_phones(
    shared_case, knp_coordinator, victim_account
):
    domain = add_identifier(
        actor=knp_coordinator, case=shared_case, kind="domain", value="golden-trade.example"
    )
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.record_transaction(
            actor=knp_coordinator, case=shared_case, from_identifier=victim_account,
            to_identifier=domain, amount="1", currency="KRW", occurred_at=YESTERDAY,
        )  # fmt: skip
    assert list(exc.value.errors) == ["to_identifier"]


def test_a_transactions_amount_does_not_change(transfer, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.update_transaction(actor=knp_coordinator, record=transfer, amount="1")
    assert "amount" in exc.value.errors


def test_deleting_a_transaction_is_audited(transfer, knp_coordinator):
    networks.delete_transaction(actor=knp_coordinator, record=transfer)
    assert audit_of(transfer)[-1].action == AuditAction.DELETE


# --- assets ---------------------------------------------------------------------------


def test_an_asset_starts_its_history(shared_case, knp_coordinator):
    asset = _asset(knp_coordinator, shared_case, note="Frozen by court order 2025-117")
    (step,) = asset.history.all()
    assert (step.state, step.on) == (asset.state, asset.state_on)
    assert step.note == "Frozen by court order 2025-117"


def test_an_asset_moves_on_and_keeps_its_history(shared_case, knp_coordinator, ccos):
    asset = _asset(knp_coordinator, shared_case, holding_agency=ccos)
    today = timezone.localdate()
    asset = networks.change_asset_state(
        actor=knp_coordinator, asset=asset, state=AssetState.SEIZED, on=today
    )
    assert [s.state for s in asset.history.all()] == ["frozen", "seized"]
    assert (asset.state, asset.state_on, asset.version) == ("seized", today, 2)
    event = audit_of(asset)[-1]
    assert event.action == AuditAction.TRANSITION
    assert event.changes["state"] == {"before": "frozen", "after": "seized"}


def test_the_holding_agency_moves_the_asset_on(shared_case, knp_coordinator, ccos, kh_investigator):
    asset = _asset(knp_coordinator, shared_case, holding_agency=ccos)
    asset = networks.change_asset_state(
        actor=kh_investigator, asset=asset, state=AssetState.SEIZED, on=timezone.localdate()
    )
    assert asset.state == AssetState.SEIZED


def test_another_agency_does_not_move_the_asset_on(shared_case, knp_coordinator, kh_investigator):
    asset = _asset(knp_coordinator, shared_case)
    with unchanged(), pytest.raises(PermissionDenied):
        networks.change_asset_state(
            actor=kh_investigator, asset=asset, state=AssetState.SEIZED, on=timezone.localdate()
        )


def test_an_asset_does_not_go_back(shared_case, knp_coordinator):
    asset = _asset(knp_coordinator, shared_case, state=AssetState.CONFISCATED)
    with unchanged(), pytest.raises(Conflict):
        networks.change_asset_state(
            actor=knp_coordinator, asset=asset, state=AssetState.FROZEN, on=timezone.localdate()
        )


def test_a_state_before_the_current_one_is_refused(shared_case, knp_coordinator):
    asset = _asset(knp_coordinator, shared_case)
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        networks.change_asset_state(
            actor=knp_coordinator, asset=asset, state=AssetState.SEIZED,
            on=asset.state_on - dt.timedelta(days=1),
        )  # fmt: skip
    assert list(exc.value.errors) == ["on"]


def test_bad_asset_fields_are_all_named(shared_case, knp_coordinator):
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        _asset(
            knp_coordinator,
            shared_case,
            value="-5",
            currency="dollars!",
            state_on=timezone.localdate() + dt.timedelta(days=3),
        )
    assert set(exc.value.errors) == {"value", "currency", "state_on"}


def test_an_mla_request_of_another_case_is_refused(shared_case, knp_coordinator):
    other = make_case(knp_coordinator, title="Another case")
    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    request = draft(knp_coordinator, other, kh_moj)
    with unchanged(), pytest.raises(ValidationFailed) as exc:
        _asset(knp_coordinator, shared_case, mla_request=request)
    assert exc.value.errors == {"mla_request": ["It must be on the same case."]}


def test_deleting_an_asset_removes_its_history(shared_case, knp_coordinator):
    asset = _asset(knp_coordinator, shared_case)
    networks.delete_asset(actor=knp_coordinator, asset=asset)
    assert not Asset.objects.exists()
    assert audit_of(asset)[-1].action == AuditAction.DELETE
