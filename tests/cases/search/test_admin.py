"""The admin's search page (`/admin/search/`), through the test client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.admin_client import login
from tests.i18n import english_leftovers

from .conftest import WORDS

URL = "/admin/search/"


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_results_link_to_the_case_workspace_with_the_match_highlighted(world, knp_coordinator):
    response = login(knp_coordinator).get(URL, {"q": "seoul"})
    assert response.status_code == 200
    page = response.content.decode()
    workspace = reverse("admin:cases_case_change", args=[world.case.pk])
    assert f'href="{workspace}#journal"' in page
    assert "Victim statements collected in <mark>Seoul</mark>." in page
    assert world.case.reference in page


@pytest.mark.parametrize(("kind", "tab"), [("case", "overview"), ("task", "tasks"),
                                           ("document", "evidence"),
                                           ("identifier", "identifiers")])  # fmt: skip
def test_each_kind_opens_its_tab(world, knp_coordinator, kind, tab):
    page = login(knp_coordinator).get(URL, {"q": WORDS[kind]}).content.decode()
    assert f'{reverse("admin:cases_case_change", args=[world.case.pk])}#{tab}"' in page


def test_an_outsider_sees_no_result_and_nothing_of_the_case(world, outsider):
    client = login(outsider)
    for query in WORDS.values():
        response = client.get(URL, {"q": query})
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="cb-search-empty"' in page
        for secret in (world.case.reference, world.note.body, world.task.title):
            assert secret not in page


def test_a_query_too_short_is_a_form_error_and_searches_nothing(world, knp_coordinator):
    response = login(knp_coordinator).get(URL, {"q": "a"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"]
    assert response.context["rows"] is None


def test_kind_boxes_narrow_the_results(world, knp_coordinator):
    response = login(knp_coordinator).get(URL, {"q": "compound", "kind": ["identifier"]})
    assert [row.hit.kind for row in response.context["rows"]] == ["identifier"]


def test_every_admin_page_has_the_search_box(world, knp_coordinator):
    page = (
        login(knp_coordinator)
        .get(reverse("admin:cases_case_change", args=[world.case.pk]))
        .content.decode()
    )
    assert 'id="cb-search-box"' in page and f'action="{URL}"' in page


def test_the_page_asks_for_a_sign_in(client):
    response = client.get(URL, {"q": "seoul"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("language", "heading"), [("ko", "검색"), ("km", "ស្វែងរក")])
def test_the_page_is_translated(world, kh_investigator, language, heading):
    membership = kh_investigator.membership
    membership.language = language
    membership.save(update_fields=["language"])
    response = login(kh_investigator).get(URL, {"q": "seoul"})
    assert f"<h1>{heading}</h1>" in response.content.decode()
    text = _text(response)
    data = [world.case.title, world.case.reference, world.note.body, "Casebridge"]
    # The note's snippet, around its highlighted match ("Victim" is a msgid too).
    data += [piece.strip() for piece in world.note.body.split("Seoul") if piece.strip()]
    # The navigation sidebar's hidden table headings: Django's, with no Khmer catalogue.
    data += ["Model name", "Change or view list link", "Add link"]
    assert english_leftovers(text, language, data=data) == []
