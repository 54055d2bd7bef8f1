"""The network pages of the admin: written through the services, read
through the gate, and nothing named that the reader may not see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import networks
from cases.choices import EntityKind, HandlingCode, LinkKind
from cases.models import Asset, Entity, Transaction
from cases.timeline import case_timeline
from tests.admin_client import change_form_data, login

from .helpers import unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(shared_case, knp_coordinator, ccos, mule_account):
    return networks.record_asset(
        actor=knp_coordinator, case=shared_case, kind="bank_balance",
        description="Balance of the mule account", value=Decimal("18500000"), currency="KRW",
        state="frozen", state_on=timezone.localdate() - dt.timedelta(days=3),
        holding_agency=ccos, identifier=mule_account,
    )  # fmt: skip


def _workspace(user, case) -> str:
    response = login(user).get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_investigator_adds_a_victim_who_stays_red(shared_case, kh_investigator):
    response = login(kh_investigator).post(
        reverse("admin:cases_entity_add"),
        {
            "case": shared_case.pk,
            "kind": "person",
            "name": "Sokha",
            "aliases": "សុខា\nSokha K.",
            "role": "victim",
            "handling_code": "",
            "handling_instruction": "H0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entity = Entity.objects.get()
    assert (entity.aliases, entity.handling_code) == (["សុខា", "Sokha K."], HandlingCode.RED)


def test_a_bad_transaction_is_a_form_error_and_nothing_is_saved(
    shared_case, knp_coordinator, victim_account, mule_account
):
    client = login(knp_coordinator)
    with unchanged():
        response = client.post(
            reverse("admin:cases_transaction_add"),
            {
                "case": shared_case.pk,
                "from_identifier": victim_account.pk,
                "to_identifier": mule_account.pk,
                "amount": "-5",
                "currency": "Korean won",
                "occurred_at_0": "2025-03-01",
                "occurred_at_1": "10:42:00",
                "handling_code": "AMBER",
                "handling_instruction": "H0",
            },
        )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"amount", "currency"} <= set(errors)
    assert not Transaction.objects.exists()


def test_the_recording_agency_changes_its_entity(operator, kh_investigator):
    client = login(kh_investigator)
    url = reverse("admin:cases_entity_change", args=[operator.pk])
    data = change_form_data(client.get(url))
    data["name"] = "Chen Wei (陈伟)"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    operator.refresh_from_db()
    assert (operator.name, operator.version) == ("Chen Wei (陈伟)", 2)


def test_another_agency_reads_an_entity_without_a_save_button(operator, knp_coordinator):
    response = login(knp_coordinator).get(reverse("admin:cases_entity_change", args=[operator.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Chen Wei" in body and 'name="_save"' not in body


def test_a_red_parent_is_not_named_to_a_partner(shared_case, knp_coordinator, kh_viewer):
    group = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Prince Casino Group Kestrel", handling_code=HandlingCode.RED,
    )  # fmt: skip
    shell = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Golden Sands", parent=group,
    )  # fmt: skip
    url = reverse("admin:cases_entity_change", args=[shell.pk])
    assert "Kestrel" in login(knp_coordinator).get(url).content.decode()
    assert "Kestrel" not in login(kh_viewer).get(url).content.decode()
    assert (
        login(kh_viewer).get(reverse("admin:cases_entity_change", args=[group.pk])).status_code
        == 404
    )


def test_a_partner_reads_an_asset_without_its_mla_request(frozen, kh_viewer):
    body = login(kh_viewer).get(reverse("admin:cases_asset_change", args=[frozen.pk])).content
    text = body.decode()
    assert "Balance of the mule account" in text
    assert 'id="cb-asset-history"' in text


def test_the_holding_agency_moves_an_asset_on(frozen, kh_investigator):
    client = login(kh_investigator)
    page = client.get(reverse("admin:cases_asset_change", args=[frozen.pk])).content.decode()
    assert 'id="cb-asset-move-on"' in page
    url = reverse("admin:cases_asset_state", args=[frozen.pk])
    response = client.post(url, {"state": "seized", "on": timezone.localdate().isoformat()})
    assert response.status_code == 302, response.content.decode()[:3000]
    frozen.refresh_from_db()
    assert [s.state for s in frozen.history.all()] == ["frozen", "seized"]


def test_a_state_date_before_the_current_one_is_a_form_error(frozen, kh_investigator):
    url = reverse("admin:cases_asset_state", args=[frozen.pk])
    client = login(kh_investigator)
    with unchanged():
        response = client.post(
            url, {"state": "seized", "on": (frozen.state_on - dt.timedelta(days=1)).isoformat()}
        )
    assert response.status_code == 200
    assert "on" in response.context["form"].errors


def test_an_agency_neither_recording_nor_holding_cannot_move_an_asset_on(
    shared_case, knp_coordinator, kh_investigator
):
    asset = networks.record_asset(
        actor=knp_coordinator, case=shared_case, kind="cash", description="Cash in a safe",
        value="50000", currency="USD", state="seized", state_on=timezone.localdate(),
    )  # fmt: skip
    url = reverse("admin:cases_asset_state", args=[asset.pk])
    client = login(kh_investigator)
    with unchanged():
        response = client.post(url, {"state": "confiscated", "on": "2025-01-01"})
    assert response.status_code == 200
    assert response.context["form"] is None
    assert Asset.objects.get().state == "seized"


def test_the_workspace_lists_the_network_and_keeps_the_victim_home(
    shared_case,
    knp_coordinator,
    kh_investigator,
    kh_viewer,
    operator,
    victim,
    transfer,
    frozen,
    wallet,
):
    networks.create_link(
        actor=kh_investigator, case=shared_case, kind=LinkKind.HOLDS_WALLET,
        from_entity=operator, to_identifier=wallet,
    )  # fmt: skip
    mine, theirs = _workspace(knp_coordinator, shared_case), _workspace(kh_viewer, shared_case)
    for body in (mine, theirs):
        assert 'id="cb-tab-network"' in body
        assert "Chen Wei" in body and "25,000,000 KRW" in body
        assert 'class="cb-link"' in body and 'class="cb-asset"' in body
    assert victim.name in mine
    assert victim.name not in theirs
    assert 'id="cb-add-entity"' in mine and 'id="cb-add-entity"' not in theirs


def test_the_timeline_tells_the_network_the_reader_may_see(
    shared_case, kh_viewer, operator, victim, frozen, kh_investigator
):
    networks.change_asset_state(
        actor=kh_investigator, asset=frozen, state="seized", on=timezone.localdate()
    )
    entries = case_timeline(kh_viewer, shared_case)
    texts = [f"{e.agency} {e.text}" for e in entries if e.kind == "network"]
    assert "KH-CCOS recorded “Chen Wei” in the network." in texts
    assert "KR-KNP recorded the asset “Balance of the mule account”." in texts
    assert "KH-CCOS moved the asset “Balance of the mule account” to Seized." in texts
    assert not any(victim.name in text for text in texts)


def test_the_delete_page_names_nothing_that_points_at_the_entity(
    shared_case, knp_coordinator, kh_investigator, company
):
    networks.create_entity(
        actor=kh_investigator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Hidden subsidiary Wren-Basalt", parent=company, handling_code=HandlingCode.RED,
    )  # fmt: skip
    client = login(knp_coordinator)
    url = reverse("admin:cases_entity_delete", args=[company.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Wren-Basalt" not in page.content.decode()
    refused = client.post(url, {"post": "yes"})
    assert refused.status_code == 409
    assert "Wren-Basalt" not in refused.content.decode()
    assert Entity.objects.filter(pk=company.pk).exists()


def test_the_recording_agency_deletes_a_transaction(transfer, knp_coordinator):
    response = login(knp_coordinator).post(
        reverse("admin:cases_transaction_delete", args=[transfer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Transaction.objects.exists()


def test_another_agency_cannot_delete_an_entity(operator, knp_coordinator):
    url = reverse("admin:cases_entity_delete", args=[operator.pk])
    assert login(knp_coordinator).post(url, {"post": "yes"}).status_code == 403
    assert Entity.objects.filter(pk=operator.pk).exists()


def test_editing_keeps_a_parent_that_became_hidden(shared_case, knp_coordinator, kh_investigator):
    group = networks.create_entity(
        actor=kh_investigator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Casino group Tern-Flint",
    )  # fmt: skip
    shell = networks.create_entity(
        actor=knp_coordinator, case=shared_case, kind=EntityKind.ORGANISATION,
        name="Golden Sands", parent=group,
    )  # fmt: skip
    networks.update_entity(actor=kh_investigator, entity=group, handling_code=HandlingCode.RED)
    client = login(knp_coordinator)
    url = reverse("admin:cases_entity_change", args=[shell.pk])
    page = client.get(url)
    assert "Tern-Flint" not in page.content.decode()
    data = change_form_data(page)
    data["description"] = "Shell company."
    assert client.post(url, data).status_code == 302
    shell.refresh_from_db()
    assert (shell.description, shell.parent_id) == ("Shell company.", group.pk)
