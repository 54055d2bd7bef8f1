"""An oversize form post gets a translated page with 413, not Django's technical page."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case
from tests.admin_client import change_form_data, login

BIG = "x" * (3 * 1024 * 1024)


@pytest.mark.parametrize("debug", [False, True])
def test_three_mb_summary_gets_a_friendly_413_and_nothing_changes(
    knp_coordinator, case, settings, debug
):
    settings.DEBUG = debug
    client = login(knp_coordinator)
    url = reverse("admin:cases_case_change", args=[case.pk])
    data = change_form_data(client.get(url))
    data["summary"] = BIG
    response = client.post(url, data, HTTP_REFERER=f"http://testserver{url}")
    body = response.content.decode()
    assert response.status_code == 413
    assert 'id="request-too-large"' in body and "RequestDataTooBig" not in body
    assert f'href="http://testserver{url}"' in body
    assert Case.objects.get(pk=case.pk).summary == case.summary


def test_oversize_page_is_in_the_readers_language(knp_coordinator, case):
    membership = knp_coordinator.membership
    membership.language = "ko"
    membership.save(update_fields=["language"])
    client = login(knp_coordinator)
    url = reverse("admin:cases_case_change", args=[case.pk])
    response = client.post(url, {"summary": BIG})
    assert response.status_code == 413
    assert '<html lang="ko"' in response.content.decode()


def test_oversize_multipart_post_gets_the_same_page(knp_coordinator, case):
    response = login(knp_coordinator).post(
        "/admin/cases/document/add/", {"case": case.pk, "description": BIG}
    )
    assert response.status_code == 413


def test_anonymous_oversize_post_gets_the_page_too():
    response = Client().post("/admin/login/", {"username": BIG})
    assert response.status_code == 413
    assert "Traceback" not in response.content.decode()


def test_a_normal_post_is_untouched(knp_coordinator, case):
    client = login(knp_coordinator)
    url = reverse("admin:cases_case_change", args=[case.pk])
    data = change_form_data(client.get(url))
    data["summary"] = "A short summary."
    assert client.post(url, data).status_code == 302
