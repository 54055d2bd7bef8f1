"""The expanded case through the Python client generated from the live
server's OpenAPI document (`tests/system/contract/clients.py`): a partner
reads a case with its participants, tasks and latest notes in one call, and
the generated models parse every key of the answer."""

from __future__ import annotations

import pytest
import requests

from agencies.tokens import issue_api_token
from cases import services
from cases.choices import AccessLevel
from gate.roles import Role
from tests.factories import make_agency, make_case, make_user
from tests.system.contract import clients

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(settings):
    settings.API_THROTTLE_RATE = ""
    settings.API_SYNC_CLOCK_MARGIN = 0
    knp = make_agency("KR-KNP", country="KR")
    ccos = make_agency("KH-CCOS", country="KH")
    lead = make_user(knp, Role.COORDINATOR)
    case = make_case(lead)
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    services.create_task(actor=lead, case=case, title="Trace USDT wallets", assigned_agency=ccos)
    services.add_note(actor=lead, case=case, body="Victim statements collected in Seoul.")
    services.add_note(actor=lead, case=case, body="Informant's name.", handling_code="RED")
    return {"knp": knp, "ccos": ccos, "case": case}


def test_partner_reads_the_expanded_case_through_the_generated_client(live_server, world, tmp_path):
    _, token = issue_api_token(agency=world["ccos"], role=Role.VIEWER, name="partner")
    headers = {"Authorization": f"Bearer {token}"}
    schema = requests.get(f"{live_server.url}/api/schema/?format=json", headers=headers, timeout=60)
    assert schema.status_code == 200, schema.text[:500]
    (tmp_path / "openapi.json").write_bytes(schema.content)
    package = clients.generate_python(tmp_path / "openapi.json", tmp_path / "py")
    retrieve = clients.operation_modules(package)["cases_retrieve"]
    client = package.AuthenticatedClient(
        base_url=live_server.url, token=token, raise_on_unexpected_status=True, timeout=60
    )
    case_id = world["case"].public_id

    response = retrieve.sync_detailed(client=client, id=case_id, expand="participants,tasks,notes")

    assert response.status_code == 200, response.content
    assert response.headers["etag"].startswith('W/"')
    case = response.parsed
    assert type(case).__name__ == "CaseDetail"
    assert case.id == case_id
    assert sorted(p.agency for p in case.participants) == ["KH-CCOS", "KR-KNP"]
    assert [t.title for t in case.tasks] == ["Trace USDT wallets"]
    assert [n.body for n in case.notes] == ["Victim statements collected in Seoul."]
    assert case.participants_next is None and case.notes_next is None
    # Without `expand`, the same model without the lists (unset, not empty).
    plain = retrieve.sync(client=client, id=case_id)
    assert plain.id == case_id and plain.version == case.version
    assert not plain.participants and "notes" not in plain.to_dict()
