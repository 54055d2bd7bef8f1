"""`GET /api/v1/search/`: the query string, the answer's shape, the gate."""

from __future__ import annotations

import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.choices import AgencyKind
from cases import documents, services
from tests.cases.mla.helpers import draft, drive, path_to
from tests.factories import make_agency, make_case, make_user

from .conftest import WORDS

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

URL = "/api/v1/search/"


def _errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_a_result_carries_kind_ids_case_title_snippet_rank_and_time(world, api, knp_coordinator):
    response = api(knp_coordinator).get(URL, {"q": "seoul"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    (result,) = body["results"]
    assert set(result) == {
        "kind",
        "id",
        "case",
        "case_reference",
        "title",
        "snippet",
        "rank",
        "updated_at",
    }
    assert result["kind"] == "note"
    assert result["id"] == str(world.note.public_id)
    assert result["case"] == str(world.case.public_id)
    assert result["case_reference"] == world.case.reference
    assert result["title"] == "Victim statements collected in Seoul."
    assert result["snippet"] == "Victim statements collected in <mark>Seoul</mark>."
    assert 0 < result["rank"] <= 1


@pytest.mark.parametrize("kind", list(WORDS))
def test_an_outsider_gets_an_empty_answer(world, api, outsider, kind):
    response = api(outsider).get(URL, {"q": WORDS[kind]})
    assert response.status_code == 200
    assert response.json() == {"next": None, "results": []}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "a"}, [("q", "min_length")]),
        ({"q": "x" * 201}, [("q", "max_length")]),
        ({}, [("q", "required")]),
        ({"q": "seoul", "kind": "agency"}, [("kind", "invalid_choice")]),
        ({"q": "seoul", "page_size": "51"}, [("page_size", "max_value")]),
        ({"q": "seoul", "page_size": "0"}, [("page_size", "min_value")]),
        ({"q": "seoul", "cursor": "not-a-cursor"}, [("cursor", "invalid")]),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, api, knp_coordinator, params, expected):
    assert _errors(api(knp_coordinator).get(URL, params)) == expected


def test_an_unknown_parameter_is_a_400(world, api, knp_coordinator):
    response = api(knp_coordinator).get(URL, {"q": "seoul", "ordering": "rank"})
    assert _errors(response) == [("ordering", "unknown")]


def test_an_empty_parameter_is_a_400(world, api, knp_coordinator):
    assert _errors(api(knp_coordinator).get(URL, {"q": ""})) == [("q", "blank")]


def test_kind_may_be_repeated(world, api, knp_coordinator):
    response = api(knp_coordinator).get(f"{URL}?q=compound&kind=case&kind=identifier")
    assert sorted(r["kind"] for r in response.json()["results"]) == ["case", "identifier"]
    response = api(knp_coordinator).get(f"{URL}?q=compound&kind=identifier")
    assert [r["kind"] for r in response.json()["results"]] == ["identifier"]


def test_next_pages_through_the_results(api, knp_coordinator):
    case = make_case(knp_coordinator, title="Paging")
    for i in range(5):
        services.add_note(actor=knp_coordinator, case=case, body=f"Ledger line {i}")
    client = api(knp_coordinator)
    first = client.get(URL, {"q": "ledger", "page_size": 3}).json()
    second = client.get(first["next"]).json()
    assert second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 5


def test_the_query_count_does_not_grow_with_the_matches(api, knp_coordinator):
    case = make_case(knp_coordinator, title="Ledger one")
    services.add_note(actor=knp_coordinator, case=case, body="Ledger entry")
    client = api(knp_coordinator)
    client.get(URL, {"q": "ledger"})

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"q": "ledger", "page_size": 50}).status_code == 200
        return len(captured)

    two = count()
    for i in range(28):
        services.add_note(actor=knp_coordinator, case=case, body=f"Ledger entry {i}")
    assert len(client.get(URL, {"q": "ledger", "page_size": 50}).json()["results"]) == 30
    assert count() == two


def test_unauthenticated_is_a_401(api):
    assert api().get(URL, {"q": "seoul"}).status_code == 401


def test_a_document_of_an_mla_request_whose_case_is_hidden_names_no_case(
    api, knp_coordinator, case, settings, tmp_path
):
    """The requested side of an MLA request sees its annexes, never the case."""
    settings.MEDIA_ROOT = str(tmp_path)
    moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    moj_coordinator = make_user(moj)
    request = drive(
        draft(knp_coordinator, case, moj),
        path_to("submitted"),
        requesting=knp_coordinator,
        requested=moj_coordinator,
    )
    annex = documents.upload_document(
        actor=knp_coordinator,
        mla_request=request,
        file=io.BytesIO(b"%PDF-1.7\n" + b"0" * 500),
        name="annex.pdf",
        title="Annex Wren-Ledger",
        handling_code="GREEN",
    )
    (result,) = api(moj_coordinator).get(URL, {"q": "wren-ledger"}).json()["results"]
    assert result["id"] == str(annex.public_id)
    assert result["case"] is None and result["case_reference"] is None
    assert str(case.public_id) not in str(result) and case.reference not in str(result)
    assert api(moj_coordinator).get(URL, {"q": case.title[:20]}).json()["results"] == []
    assert uuid.UUID(result["id"])
