"""The OpenAPI document is a contract that generated clients can rely on.

From the live server's `/api/schema/`: the TypeScript client
(@hey-api/openapi-ts) generates and compiles with `tsc --strict`, and a
partner's scripted flow through the generated Python client
(openapi-python-client) calls every operation of the document at least once,
each answer parsed by the generated models (a parse error or an undocumented
status fails the test, naming the operation). Writes send `If-Match` with
the ETag of the previous answer, as a careful partner does.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import inspect
import io
import json
import time
import uuid
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.middleware.csrf import get_token
from django.test import Client as DjangoClient
from django.test import RequestFactory

from agencies.tokens import issue_api_token
from gate.roles import Role
from tests.cases.mla.helpers import COMPLETE_FULL
from tests.factories import make_agency, make_user
from tests.notifications.harness import Receiver

from . import clients

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PRESERVATION = {
    "kind": "preservation",
    "assistance_types": ["subscriber_data"],
    "details": {
        "preservation": {
            "stored_data": "Subscriber and log data of +85512345678, Jan-Jun 2025.",
            "custodian": "Smart Axiata Co., Ltd., Phnom Penh",
        }
    },
}


@pytest.fixture
def world(settings):
    settings.API_THROTTLE_RATE = ""
    settings.API_ANON_THROTTLE_RATE = ""
    settings.API_SYNC_CLOCK_MARGIN = 0
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = True
    settings.NOTIFICATIONS_WEBHOOK_TIMEOUT = 5
    agencies = {
        "knp": make_agency("KR-KNP", name="Korean National Police Agency", country="KR"),
        "ccos": make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH"),
        "moj": make_agency(
            "KH-MOJ", name="Ministry of Justice", country="KH", kind="central_authority"
        ),
        "th": make_agency("TH-CCIB", name="Cyber Crime Investigation Bureau", country="TH"),
        "unodc": make_agency("UNODC", name="UNODC", country="INT", kind="international"),
    }
    return agencies


@pytest.fixture
def schema_file(live_server, world, tmp_path):
    """The document as a partner downloads it, from the running server."""
    _, token = issue_api_token(agency=world["knp"], role=Role.VIEWER, name="schema")
    response = requests.get(
        f"{live_server.url}/api/schema/?format=json",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:500]
    path = tmp_path / "openapi.json"
    path.write_bytes(response.content)
    return path


def test_typescript_client_generates_and_compiles_with_tsc_strict(schema_file, tmp_path):
    clients.generate_and_compile_typescript(schema_file, tmp_path / "ts")
    print("timings", clients.TIMINGS)


# --- the partner flow ---------------------------------------------------------


class Flow:
    """Calls operations of the generated client by operationId, and keeps what
    a partner keeps: the ETag of each object, and which operations it used."""

    def __init__(self, package, schema: dict, base_url: str):
        self.package = package
        self.models = __import__(f"{package.__name__}.models", fromlist=["*"])
        self.types = __import__(f"{package.__name__}.types", fromlist=["*"])
        self.modules = clients.operation_modules(package)
        self.operations = clients.operations(schema)
        self.base_url = base_url
        self.exercised: set[str] = set()
        self.etags: dict[str, str] = {}
        missing = set(self.operations) - set(self.modules)
        assert not missing, f"no generated function for {sorted(missing)}"

    # clients ------------------------------------------------------------------

    def token_client(self, agency, role: str):
        _, token = issue_api_token(agency=agency, role=role, name=f"flow {role}")
        return self.package.AuthenticatedClient(
            base_url=self.base_url,
            token=token,
            raise_on_unexpected_status=True,
            timeout=60,
            headers={"Connection": "close"},
        )

    def session_client(self, user):
        """A person signed in to the web app (agency administrators have no
        API token): the session cookie and the CSRF pair DRF asks for."""
        browser = DjangoClient()
        browser.force_login(user)
        request = RequestFactory().get("/")
        csrf = get_token(request)
        return self.package.Client(
            base_url=self.base_url,
            cookies={
                django_settings.SESSION_COOKIE_NAME: browser.cookies[
                    django_settings.SESSION_COOKIE_NAME
                ].value,
                django_settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"],
            },
            headers={"X-CSRFToken": csrf, "Connection": "close"},
            raise_on_unexpected_status=True,
            timeout=60,
        )

    # bodies -------------------------------------------------------------------

    def model(self, name: str, data: dict) -> Any:
        return getattr(self.models, name).from_dict(data)

    def file(self, content: bytes, name: str, mime: str) -> Any:
        return self.types.File(payload=io.BytesIO(content), file_name=name, mime_type=mime)

    # calls --------------------------------------------------------------------

    def call(self, client, operation_id: str, *, expect: int = 200, **kwargs: Any) -> Any:
        """One call through the generated function; the parsed answer.

        With `If-Match` in the operation, the ETag last seen for the object
        `id` is sent (the semantic branch makes it required)."""
        function = self.modules[operation_id].sync_detailed
        parameters = inspect.signature(function).parameters
        object_id = str(kwargs.get("id", ""))
        if "if_match" in parameters and "if_match" not in kwargs and object_id in self.etags:
            kwargs["if_match"] = self.etags[object_id]
        if "idempotency_key" in parameters:
            kwargs.setdefault("idempotency_key", str(uuid.uuid4()))
        try:
            response = function(client=client, **kwargs)
        except Exception as exc:  # a parse error or an undocumented status
            raw = client.get_httpx_client().request(
                **self.modules[operation_id]._get_kwargs(**kwargs)
            )
            raise AssertionError(
                f"{operation_id}: the generated client failed on {raw.status_code} "
                f"{raw.headers.get('content-type')} {raw.content[:300]!r}: {exc!r}"
            ) from exc
        self.exercised.add(operation_id)
        assert response.status_code == expect, (
            operation_id,
            response.status_code,
            response.content[:800],
        )
        parsed = response.parsed
        if 200 <= expect < 300 and expect != 204:
            assert parsed is not None, f"{operation_id}: nothing parsed"
            assert not isinstance(parsed, self.models.Problem), operation_id
        elif expect >= 400:
            assert isinstance(parsed, self.models.Problem), operation_id
        etag = response.headers.get("etag")
        if etag and parsed is not None and hasattr(parsed, "id"):
            self.etags[str(parsed.id)] = etag
        return parsed


def _data(parsed) -> dict:
    return parsed.to_dict()


def test_partner_flow_through_the_generated_python_client_uses_every_operation(
    schema_file, live_server, world, tmp_path, settings
):
    started = time.monotonic()
    package = clients.generate_python(schema_file, tmp_path / "py")
    schema = json.loads(schema_file.read_text())
    flow = Flow(package, schema, live_server.url)
    call = flow.call
    knp, ccos, moj, th = world["knp"], world["ccos"], world["moj"], world["th"]
    knp_coord = flow.token_client(knp, Role.COORDINATOR)
    knp_inv = flow.token_client(knp, Role.INVESTIGATOR)
    ccos_coord = flow.token_client(ccos, Role.COORDINATOR)
    ccos_inv = flow.token_client(ccos, Role.INVESTIGATOR)
    moj_coord = flow.token_client(moj, Role.COORDINATOR)
    unodc_viewer = flow.token_client(world["unodc"], Role.VIEWER)
    knp_admin = flow.session_client(make_user(knp, Role.AGENCY_ADMIN))
    kh_person = make_user(ccos, Role.COORDINATOR)
    kh_session = flow.session_client(kh_person)
    receiver = Receiver()

    try:
        _flow(flow, call, locals())
    finally:
        receiver.close()

    not_exercised = sorted(set(flow.operations) - flow.exercised)
    assert not not_exercised, "operations the flow never called: " + ", ".join(
        f"{op} ({' '.join(flow.operations[op])})" for op in not_exercised
    )
    print("timings", clients.TIMINGS, "flow", round(time.monotonic() - started, 1))


def _flow(flow: Flow, call, env: dict) -> None:
    model = flow.model
    knp_coord, knp_inv = env["knp_coord"], env["knp_inv"]
    ccos_coord, ccos_inv, moj_coord = env["ccos_coord"], env["ccos_inv"], env["moj_coord"]
    unodc_viewer = env["unodc_viewer"]
    knp_admin, kh_session, receiver = env["knp_admin"], env["kh_session"], env["receiver"]

    # Who am I, and whom can I share with.
    me = call(knp_coord, "me_retrieve")
    assert me.agency.code == "KR-KNP"
    agencies = call(knp_coord, "agencies_list").results
    assert "KH-CCOS" in {a.code for a in agencies}
    # Agencies are addressed by their code, like everywhere else.
    assert call(knp_coord, "agencies_retrieve", code="KH-CCOS").code == "KH-CCOS"

    # The agency's webhook, before anything happens, so events reach it.
    call(knp_admin, "events_catalogue_retrieve")
    hook = call(
        knp_admin,
        "webhooks_create",
        body=model("WebhookEndpointInputRequest", {"url": receiver.url}),
        expect=201,
    )
    assert hook.secret
    call(knp_admin, "webhooks_list")
    call(knp_admin, "webhooks_retrieve", id=hook.id)
    call(
        knp_admin,
        "webhooks_update",
        id=hook.id,
        body=model("WebhookEndpointInputRequest", {"url": receiver.url, "events": []}),
    )
    call(
        knp_admin,
        "webhooks_partial_update",
        id=hook.id,
        body=model("PatchedWebhookEndpointInputRequest", {"active": True}),
    )
    rotated = call(knp_admin, "webhooks_rotate_secret_create", id=hook.id)
    assert rotated.secret != hook.secret

    # A case, edited and moved on.
    case = call(
        knp_coord,
        "cases_create",
        body=model(
            "CaseInputRequest",
            {
                "title": "Sihanoukville compound investment fraud",
                "summary": "Pig-butchering network run from a scam compound.",
                "crime_types": ["investment_fraud"],
            },
        ),
        expect=201,
    )
    call(knp_coord, "cases_list")
    call(knp_coord, "cases_retrieve", id=case.id)
    call(
        knp_coord,
        "cases_update",
        id=case.id,
        body=model(
            "CaseInputRequest",
            {"title": "Compound fraud (Sihanoukville)", "crime_types": ["investment_fraud"]},
        ),
    )
    call(
        knp_coord,
        "cases_partial_update",
        id=case.id,
        body=model("PatchedCaseInputRequest", {"summary": "Network of three compounds."}),
    )
    call(
        knp_coord,
        "cases_status_create",
        id=case.id,
        body=model("CaseStatusInputRequest", {"status": "active"}),
    )

    # Sharing: one, several at once, changed, revoked.
    call(
        knp_coord,
        "cases_participants_create",
        case_id=case.id,
        body=model("ShareInputRequest", {"agency": "KH-CCOS", "level": "contribute"}),
        expect=201,
    )
    bulk = call(
        knp_coord,
        "cases_participants_bulk_create",
        case_id=case.id,
        body=[
            model("BulkShareItemRequest", {"agency": "TH-CCIB", "level": "view"}),
            model("BulkShareItemRequest", {"agency": "UNODC", "level": "view"}),
        ],
        expect=201,
    )
    th_share, unodc_share = bulk
    call(knp_coord, "cases_participants_list", case_id=case.id)
    call(knp_coord, "cases_participants_retrieve", case_id=case.id, id=th_share.id)
    call(
        knp_coord,
        "cases_participants_update",
        case_id=case.id,
        id=th_share.id,
        body=model("ChangeAccessInputRequest", {"level": "contribute"}),
    )
    call(
        knp_coord,
        "cases_participants_partial_update",
        case_id=case.id,
        id=th_share.id,
        body=model("PatchedChangeAccessInputRequest", {"level": "view"}),
    )
    call(knp_coord, "cases_participants_retrieve", case_id=case.id, id=unodc_share.id)
    call(knp_coord, "cases_participants_destroy", case_id=case.id, id=unodc_share.id, expect=204)
    # UNODC's next sync tells it that it lost the case.
    tombstones = call(unodc_viewer, "cases_tombstones_list").results
    assert [t.case for t in tombstones] == [case.id]
    call(unodc_viewer, "cases_tombstones_retrieve", id=tombstones[0].id)

    # Tasks, notes.
    task = call(
        knp_coord,
        "tasks_create",
        body=model(
            "TaskCreateInputRequest",
            {"case": str(case.id), "title": "Trace the USDT wallets", "assigned_agency": "KH-CCOS"},
        ),
        expect=201,
    )
    call(knp_coord, "tasks_list")
    call(knp_coord, "tasks_retrieve", id=task.id)
    call(
        knp_coord,
        "tasks_update",
        id=task.id,
        body=model(
            "TaskUpdateInputRequest",
            {"title": "Trace the USDT wallets (TRC-20)", "assigned_agency": "KH-CCOS"},
        ),
    )
    call(ccos_inv, "tasks_retrieve", id=task.id)
    call(
        ccos_inv,
        "tasks_partial_update",
        id=task.id,
        body=model("PatchedTaskUpdateInputRequest", {"status": "in_progress"}),
    )
    note = call(
        knp_inv,
        "notes_create",
        body=model("NoteInputRequest", {"case": str(case.id), "body": "Victim interview done."}),
        expect=201,
    )
    call(knp_inv, "notes_list")
    call(knp_inv, "notes_retrieve", id=note.id)
    # Full-text search (issue 19): the note found, highlighted; one letter is a 400.
    found = call(knp_inv, "search_list", q="INTERVIEW", page_size=10)
    hit = next(r for r in found.results if str(r.id) == str(note.id))
    assert str(hit.kind) == "note" and str(hit.case) == str(case.id), hit
    assert hit.snippet == "Victim <mark>interview</mark> done.", hit.snippet
    call(knp_inv, "search_list", q="i", expect=400)

    # Evidence: upload, read, download (both ways), chain of custody.
    document = call(
        knp_inv,
        "documents_create",
        body=flow.models.DocumentUploadInputRequest(
            case=case.id,
            title="Seized ledger",
            file=flow.file(PDF, "ledger.pdf", "application/pdf"),
        ),
        expect=201,
    )
    call(knp_inv, "documents_list")
    call(knp_inv, "documents_retrieve", id=document.id)
    downloaded = call(
        knp_inv, "documents_download_retrieve", id=document.id, purpose="Court bundle"
    )
    assert downloaded.payload.read() == PDF
    call(
        knp_inv,
        "documents_download_create",
        id=document.id,
        body=model("DownloadInputRequest", {"purpose": "Court bundle"}),
    )
    call(knp_inv, "documents_custody_retrieve", id=document.id)

    # The same evidence over a broken link: a tus upload in two chunks (tus
    # orders the chunks by `Upload-Offset`, not `If-Match`), and one abandoned.
    tus = {"tus_resumable": "1.0.0"}
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {
            "case": str(case.id),
            "title": "Seized ledger (field copy)",
            "filename": "ledger.pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }.items()
    )
    upload = call(
        knp_inv,
        "uploads_create",
        upload_length=len(PDF),
        upload_metadata=metadata,
        expect=201,
        **tus,
    )
    half = len(PDF) // 2
    for offset, chunk in ((0, PDF[:half]), (half, PDF[half:])):
        assert call(knp_inv, "uploads_retrieve", id=upload.id).offset == offset
        call(
            knp_inv,
            "uploads_partial_update",
            id=upload.id,
            body=flow.file(chunk, "ledger.pdf", "application/offset+octet-stream"),
            upload_offset=offset,
            expect=204,
            **tus,
        )
    assert call(knp_inv, "uploads_retrieve", id=upload.id).document
    abandoned = call(
        knp_inv,
        "uploads_create",
        upload_length=len(PDF),
        upload_metadata=metadata,
        expect=201,
        **tus,
    )
    call(knp_inv, "uploads_destroy", id=abandoned.id, expect=204, **tus)

    # Identifiers and deconfliction: KH-CCOS holds the same phone number.
    kh_case = call(
        ccos_coord,
        "cases_create",
        body=model("CaseInputRequest", {"title": "Call-centre fraud, Bavet"}),
        expect=201,
    )
    phone = "+855 12 345 678"
    call(
        ccos_inv,
        "identifiers_create",
        body=model(
            "IdentifierInputRequest", {"case": str(kh_case.id), "kind": "phone", "value": phone}
        ),
        expect=201,
    )
    identifier = call(
        knp_inv,
        "identifiers_create",
        body=model(
            "IdentifierInputRequest", {"case": str(case.id), "kind": "phone", "value": phone}
        ),
        expect=201,
    )
    call(knp_inv, "identifiers_list")
    call(knp_inv, "identifiers_retrieve", id=identifier.id)
    call(knp_inv, "identifiers_deconflict_create", id=identifier.id)
    call(knp_coord, "cases_stix_retrieve", case_id=case.id)
    search = call(
        knp_coord,
        "deconfliction_search_create",
        body=model("SearchInputRequest", {"identifiers": [{"kind": "phone", "value": phone}]}),
    )
    tokens = [hit.contact_token for item in search.results for hit in item.held_elsewhere]
    assert tokens, _data(search)
    call(
        knp_coord,
        "deconfliction_request_contact_create",
        body=model("RequestContactInputRequest", {"token": tokens[0]}),
        expect=201,
    )

    # Networks and money (issue 20): who runs the compound, where the money went.
    account = call(
        knp_inv,
        "identifiers_create",
        body=model(
            "IdentifierInputRequest",
            {"case": str(case.id), "kind": "iban", "value": "DE89370400440532013000"},
        ),
        expect=201,
    )
    wallet = call(
        ccos_inv,
        "identifiers_create",
        body=model(
            "IdentifierInputRequest",
            {
                "case": str(case.id),
                "kind": "crypto_wallet",
                "value": "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo",
                "chain": "tron",
            },
        ),
        expect=201,
    )
    boss = call(
        ccos_inv,
        "entities_create",
        body=model(
            "EntityInputRequest",
            {"case": str(case.id), "kind": "person", "name": "Chen Wei", "role": "suspect"},
        ),
        expect=201,
    )
    victim = call(
        knp_inv,
        "entities_create",
        body=model(
            "EntityInputRequest",
            {"case": str(case.id), "kind": "person", "name": "김지영", "role": "victim"},
        ),
        expect=201,
    )
    # A victim is TLP:RED: KR-KNP's alone.
    assert str(victim.handling_code) == "RED"
    call(ccos_inv, "entities_retrieve", id=victim.id, expect=404)
    call(knp_inv, "entities_list")
    call(ccos_inv, "entities_retrieve", id=boss.id)
    call(
        ccos_inv,
        "entities_update",
        id=boss.id,
        body=model("EntityUpdateInputRequest", {"name": "Chen Wei", "nationality": "CN"}),
    )
    call(
        ccos_inv,
        "entities_partial_update",
        id=boss.id,
        body=model("PatchedEntityUpdateInputRequest", {"aliases": ["陈伟", "Boss Chen"]}),
    )
    holds = call(
        ccos_inv,
        "links_create",
        body=model(
            "LinkInputRequest",
            {
                "case": str(case.id),
                "kind": "holds_wallet",
                "from_entity": str(boss.id),
                "to_identifier": str(wallet.id),
            },
        ),
        expect=201,
    )
    call(knp_inv, "links_list")
    call(ccos_inv, "links_retrieve", id=holds.id)
    call(
        ccos_inv,
        "links_update",
        id=holds.id,
        body=model("LinkUpdateInputRequest", {"source_reliability": "B"}),
    )
    call(
        ccos_inv,
        "links_partial_update",
        id=holds.id,
        body=model("PatchedLinkUpdateInputRequest", {"information_accuracy": "2"}),
    )
    moved = call(
        knp_inv,
        "transactions_create",
        body=model(
            "TransactionInputRequest",
            {
                "case": str(case.id),
                "from_identifier": str(account.id),
                "to_identifier": str(wallet.id),
                "amount": "1520.5",
                "currency": "USDT-TRC20",
                "occurred_at": "2025-03-02T09:00:00+07:00",
            },
        ),
        expect=201,
    )
    assert moved.amount == "1520.500000000000000000", moved.amount
    call(ccos_inv, "transactions_list", currency="USDT-TRC20")
    call(knp_inv, "transactions_retrieve", id=moved.id)
    call(
        knp_inv,
        "transactions_update",
        id=moved.id,
        body=model("TransactionUpdateInputRequest", {"reference": "5b1d" * 16}),
    )
    call(
        knp_inv,
        "transactions_partial_update",
        id=moved.id,
        body=model("PatchedTransactionUpdateInputRequest", {"description": "OTC purchase"}),
    )
    # Follow the money from the account: one hop, to the wallet.
    traced = call(knp_inv, "trace_list", from_=account.id, hops=2)
    assert [str(e.id) for e in traced.edges] == [str(moved.id)], _data(traced)
    assert traced.paths[0].totals.additional_properties == {"USDT-TRC20": "1520.5"}
    call(knp_inv, "trace_list", from_=account.id, hops=9, expect=400)
    # The network out (GraphML, CSV; STIX above) and a statement in, from CSV:
    # checked, imported, and a file with a bad row refused row by row.
    call(knp_coord, "cases_graphml_retrieve", case_id=case.id)
    call(ccos_inv, "cases_network_csv_retrieve", case_id=case.id)
    statement = (
        "occurred_at,from_kind,from_value,to_kind,to_value,to_chain,amount,currency,reference\n"
        "2025-03-03 10:00,iban,DE89370400440532013000,crypto_wallet,"
        "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo,tron,300,USDT-TRC20,0x77\n"
    )

    def statement_body(text: str, *, dry_run: bool = False) -> Any:
        return flow.models.TransactionImportInputRequest(
            file=flow.file(text.encode(), "statement.csv", "text/csv"), dry_run=dry_run
        )

    checked = call(
        knp_inv,
        "cases_transactions_import_create",
        case_id=case.id,
        body=statement_body(statement, dry_run=True),
    )
    assert (checked.valid, checked.imported) == (1, 0), _data(checked)
    imported = call(
        knp_inv,
        "cases_transactions_import_create",
        case_id=case.id,
        body=statement_body(statement),
        expect=201,
    )
    assert imported.imported == 1, _data(imported)
    refused = call(
        knp_inv,
        "cases_transactions_import_create",
        case_id=case.id,
        body=statement_body(statement.replace(",300,", ",-300,")),
        expect=400,
    )
    assert [e.field for e in refused.errors] == ["rows.2.amount"], refused.to_dict()
    asset = call(
        knp_coord,
        "assets_create",
        body=model(
            "AssetInputRequest",
            {
                "case": str(case.id),
                "kind": "crypto",
                "description": "USDT on the compound's hot wallet",
                "value": "1520.5",
                "currency": "USDT-TRC20",
                "state": "frozen",
                "state_on": "2025-04-02",
                "holding_agency": "KH-CCOS",
                "identifier": str(wallet.id),
            },
        ),
        expect=201,
    )
    call(ccos_inv, "assets_list")
    call(knp_coord, "assets_retrieve", id=asset.id)
    call(
        knp_coord,
        "assets_update",
        id=asset.id,
        body=model("AssetUpdateInputRequest", {"legal_basis": "ASEAN MLAT (2004)"}),
    )
    call(
        knp_coord,
        "assets_partial_update",
        id=asset.id,
        body=model("PatchedAssetUpdateInputRequest", {"value": "1500"}),
    )
    # The holding agency seizes it.
    seized = call(
        ccos_inv,
        "assets_state_create",
        id=asset.id,
        body=model("AssetStateInputRequest", {"state": "seized", "on": "2025-04-20"}),
    )
    assert [str(step.state) for step in seized.history] == ["frozen", "seized"]
    # The picture of the case's network (issue 20): whole, by kind, one hop.
    picture = call(knp_inv, "cases_graph_retrieve", case_id=case.id)
    assert {str(n.type_) for n in picture.nodes} >= {"entity", "identifier"}, _data(picture)
    kinds = next(
        getattr(flow.models, name) for name in dir(flow.models) if name.startswith("CasesGraph")
    )  # the generated enum of `kinds`
    call(
        knp_inv,
        "cases_graph_retrieve",
        case_id=case.id,
        kinds=[kinds("identifier"), kinds("transaction")],
    )
    hop = call(knp_inv, "cases_graph_retrieve", case_id=case.id, expand=f"identifier:{wallet.id}")
    assert hop.expanded == f"identifier:{wallet.id}"

    # Share proposals: KR-KNP co-manages KH-CCOS's case and proposes; only
    # the lead shares onward, so KH-CCOS accepts one proposal and declines one.
    call(
        ccos_coord,
        "cases_participants_create",
        case_id=kh_case.id,
        body=model("ShareInputRequest", {"agency": "KR-KNP", "level": "manage"}),
        expect=201,
    )
    proposed = [
        call(
            knp_coord,
            "cases_share_proposals_create",
            case_id=kh_case.id,
            body=model(
                "ShareProposalInputRequest",
                {"agency": agency, "level": "view", "reason": "Payments go through it."},
            ),
            expect=201,
        )
        for agency in ("TH-CCIB", "UNODC")
    ]
    listed = call(ccos_coord, "cases_share_proposals_list", case_id=kh_case.id).results
    assert {p.id for p in listed} == {p.id for p in proposed}
    for proposal in proposed:
        call(ccos_coord, "share_proposals_retrieve", id=proposal.id)
    accepted = call(
        ccos_coord,
        "share_proposals_accept_create",
        id=proposed[0].id,
        body=model("ProposalAcceptInputRequest", {"note": "Agreed."}),
    )
    assert accepted.status == "accepted"
    declined = call(
        ccos_coord,
        "share_proposals_decline_create",
        id=proposed[1].id,
        body=model("ProposalDecisionInputRequest", {"note": "Not yet."}),
    )
    assert declined.status == "declined"

    # MLA requests: every transition, by the side that takes it.
    def draft(**overrides) -> Any:
        body = {
            **COMPLETE_FULL,
            "case": str(case.id),
            "requested_agency": "KH-MOJ",
            "legal_basis": "untoc",
            **overrides,
        }
        return call(
            knp_coord, "mla_requests_create", body=model("MLACreateInputRequest", body), expect=201
        )

    def step(client, verb: str, request, comment: str = "") -> Any:
        body = model("TransitionInputRequest", {"comment": comment} if comment else {})
        operation = "mla_requests_" + verb.replace("-", "_") + "_create"
        return call(client, operation, id=request.id, body=body)

    first = draft()
    call(knp_coord, "mla_requests_list")
    call(knp_coord, "mla_requests_retrieve", id=first.id)
    call(
        knp_coord,
        "mla_requests_update",
        id=first.id,
        body=model("MLAUpdateInputRequest", {"urgency": "normal"}),
    )
    call(
        knp_coord,
        "mla_requests_partial_update",
        id=first.id,
        body=model("PatchedMLAUpdateInputRequest", {"requesting_reference": "KNP-2026-001"}),
    )
    step(knp_coord, "submit", first)
    call(moj_coord, "mla_requests_retrieve", id=first.id)
    step(moj_coord, "acknowledge", first)
    step(moj_coord, "request-more-info", first, "Which accounts exactly?")
    call(knp_coord, "mla_requests_retrieve", id=first.id)
    step(knp_coord, "provide-info", first, "KH-ACLEDA-0012345678 only.")
    call(moj_coord, "mla_requests_retrieve", id=first.id)
    call(
        moj_coord,
        "mla_requests_file_delay_notice_create",
        id=first.id,
        body=model(
            "DelayNoticeInputRequest",
            {
                "reason": "The bank needs a court order first.",
                "new_due": (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).isoformat(),
            },
        ),
    )
    step(moj_coord, "start-execution", first)
    step(moj_coord, "execute-partially", first, "Statements for one account only.")
    call(knp_coord, "mla_requests_history_list", id=first.id)

    second = draft()
    step(knp_coord, "submit", second)
    call(moj_coord, "mla_requests_retrieve", id=second.id)
    step(moj_coord, "acknowledge", second)
    step(moj_coord, "start-execution", second)
    step(moj_coord, "execute", second)

    third = draft()
    step(knp_coord, "submit", third)
    call(moj_coord, "mla_requests_retrieve", id=third.id)
    step(moj_coord, "refuse", third, "Dual criminality is not met.")

    preservation = draft(**PRESERVATION, assistance_sought="")
    step(knp_coord, "submit", preservation)
    call(
        knp_coord,
        "mla_requests_extend_preservation_create",
        id=preservation.id,
        body=model("ExtendPreservationInputRequest", {"reason": "The full request is on its way."}),
    )
    follow_up = draft()
    step(knp_coord, "submit", follow_up)
    call(
        knp_coord,
        "mla_requests_link_follow_up_create",
        id=preservation.id,
        body=model("LinkFollowUpInputRequest", {"follow_up": str(follow_up.id)}),
    )
    step(knp_coord, "withdraw", follow_up)

    # Statistics (issue 20): the agency's own figures, counts as numbers or
    # "<5"; the pooled scope, withheld while fewer than three agencies
    # contribute; a period that ends before it starts is a 400.
    figures = call(knp_coord, "statistics_list", since=dt.date(2020, 1, 1))
    assert figures.agency == "KR-KNP" and figures.cases is not None, _data(figures)
    pooled = call(
        knp_coord, "statistics_list", scope=flow.models.StatisticsListScope("contributors")
    )
    assert pooled.withheld is True and pooled.cases is None, _data(pooled)
    call(
        knp_coord,
        "statistics_list",
        since=dt.date(2025, 5, 1),
        until=dt.date(2025, 4, 1),
        expect=400,
    )

    # The lead goes to KH-CCOS.
    call(knp_coord, "cases_retrieve", id=case.id)
    call(
        knp_coord,
        "cases_hand_over_create",
        id=case.id,
        body=model("HandOverInputRequest", {"new_lead": "KH-CCOS"}),
    )

    # A person's notifications (service accounts get none).
    notifications = call(kh_session, "notifications_list").results
    assert notifications, "KH-CCOS's coordinator was told nothing"
    call(kh_session, "notifications_retrieve", id=notifications[0].id)
    call(kh_session, "notifications_read_create", id=notifications[0].id)
    call(kh_session, "notifications_read_all_create")

    # The agency administrator: the audit trail, the webhook's deliveries.
    call(knp_admin, "audit_events_list")
    call(knp_admin, "audit_events_export_retrieve")
    deliveries = call(knp_admin, "webhooks_deliveries_list", id=hook.id)
    assert deliveries and receiver.requests, "no event reached the webhook"
    call(knp_admin, "webhooks_retrieve", id=hook.id)
    call(
        knp_admin,
        "webhooks_deliveries_redeliver_create",
        id=hook.id,
        event_id=deliveries[0].id,
        expect=202,
    )
    call(knp_admin, "webhooks_retrieve", id=hook.id)
    call(knp_admin, "webhooks_destroy", id=hook.id, expect=204)
