"""Follow the money in a real browser (Debian's Chromium through Playwright),
on the demo's own data, in English, Khmer and Korean.

`load_demo` gives the pig-butchering case (KR-KNP leads, KH-CCOS
contributes): the victim's account pays two Korean mule accounts, which buy
USDT for the compound's hot wallet, which pays the operator's wallet. KH-CCOS
also records the operator's wallet, and the USDT it cashed out, on its own
laundering case, which KR-KNP may not see.

KR-KNP's analyst opens the case's Network tab, expands a wallet, selects the
victim's account and follows the money: the flow reaches the operator's
wallet and stops there with "KH-CCOS holds a match"; the analyst requests
contact (the request exists for KH-CCOS; asking again says it already was).
Nothing of the laundering case shows. KH-CCOS's own analyst, following the
same money, meets no border and sees the cash-out. An outsider gets 404.
Screenshots go to test-results/admin-browser/.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from agencies.models import Agency
from cases.management.commands.load_demo import (
    CASH_OUT_WALLET,
    LAUNDERING_TITLE,
    OPERATOR_WALLET,
    PIG_BUTCHERING_TITLE,
    demo_username,
)
from cases.models import Case, ContactRequest
from gate.roles import Role
from tests.browser import Session, click_graph_node
from tests.factories import PASSWORD
from tests.i18n import english_leftovers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VICTIM_ACCOUNT = "123-45-6789-012"
HOT_WALLET = "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo"
HIDDEN_AMOUNTS = ("9876", "9,876", "9 876", "9.876")


@pytest.fixture
def demo(db, django_user_model):
    call_command("load_demo", stdout=io.StringIO())
    for user in django_user_model.objects.all():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    knp = Agency.objects.get(code="KR-KNP")
    return {
        "case": Case.objects.get(lead_agency=knp, title=PIG_BUTCHERING_TITLE),
        "laundering": Case.objects.get(title=LAUNDERING_TITLE),
        "user": lambda code, role=Role.INVESTIGATOR: django_user_model.objects.get(
            username=demo_username(code, role)
        ),
    }


def _session(browser, live_server, user, name: str, language: str) -> Session:
    membership = user.membership
    membership.language = language
    membership.save(update_fields=["language"])
    return Session(browser, live_server, user, name)


def _open_network(session, case) -> None:
    session.goto(f"/admin/cases/case/{case.pk}/change/")
    session.page.locator("#cb-tab-network").click()
    session.page.locator("#cb-graph[data-cb-ready]").wait_for(state="attached", timeout=20000)
    session.page.locator("#cb-graph-canvas").scroll_into_view_if_needed()


def _follow(page, label: str, hops: str = "4") -> None:
    page.locator("#cb-flow").evaluate("(el) => el.removeAttribute('data-cb-traced')")
    click_graph_node(page, label)
    follow = page.locator("#cb-flow-follow")
    assert follow.is_enabled()
    page.locator("#cb-flow-hops").select_option(hops)
    follow.click()
    page.locator("#cb-flow[data-cb-traced]").wait_for(state="attached", timeout=20000)


def _flow_labels(page) -> list[str]:
    return page.evaluate(
        """() => document.getElementById("cb-flow-canvas").cbFlow.nodes()
            .map((n) => n.data("api").value)"""
    )


@pytest.mark.parametrize("language", ["en", "km", "ko"])
def test_an_analyst_follows_the_money_to_a_kh_ccos_wallet_and_requests_contact(
    browser, live_server, demo, language
):
    analyst = demo["user"]("KR-KNP")
    me = _session(browser, live_server, analyst, f"knp-flow-{language}", language)
    page = me.page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _open_network(me, demo["case"])

    click_graph_node(page, HOT_WALLET)
    page.locator("#cb-graph-expand").click()
    page.locator("#cb-graph[data-cb-expanded]").wait_for(state="attached")
    me.shot(f"flow-01-network-{language}")
    page.locator("#cb-graph").screenshot(path=str(me.results / f"flow-01-picture-{language}.png"))

    _follow(page, VICTIM_ACCOUNT)
    # The victim's account, two mules, the hot wallet, the operator's wallet.
    assert sorted(_flow_labels(page)) == sorted(
        [VICTIM_ACCOUNT, "110-555-123456", "1002-345-678901", HOT_WALLET, OPERATOR_WALLET]
    )
    borders = page.locator(".cb-flow-border")
    assert borders.count() == 1
    assert borders.first.get_attribute("data-cb-agency") == "KH-CCOS"
    assert "KH-CCOS" in borders.first.inner_text()
    assert page.locator(".cb-flow-path").count() >= 2
    assert "USDT-TRC20" in page.locator("#cb-flow-paths").inner_text()

    borders.first.locator(".cb-flow-contact").click()
    page.locator(".cb-flow-answer[data-cb-done]").wait_for(state="attached")
    requested = ContactRequest.objects.get()
    assert (requested.requester_agency.code, requested.holder_agency.code) == (
        "KR-KNP",
        "KH-CCOS",
    )
    assert requested.requested_by == analyst
    assert page.locator(".cb-flow-contact").is_disabled()
    page.locator("#cb-flow").scroll_into_view_if_needed()
    me.shot(f"flow-02-flow-{language}")
    page.locator("#cb-flow").screenshot(path=str(me.results / f"flow-03-view-{language}.png"))

    text = page.locator("body").inner_text()
    html = page.content()
    for hidden in (CASH_OUT_WALLET, LAUNDERING_TITLE, demo["laundering"].reference):
        assert hidden not in html
    assert not [amount for amount in HIDDEN_AMOUNTS if amount in text]
    if language != "en":
        section = page.locator("#cb-flow").inner_text()
        data = [VICTIM_ACCOUNT, HOT_WALLET, OPERATOR_WALLET, "KH-CCOS", "USDT-TRC20", "KRW"]
        assert english_leftovers(section, language, data=data) == []

    with page.expect_download() as png:
        page.locator("#cb-flow-png").click()
    data = Path(png.value.path()).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    (me.results / f"flow-{language}.png").write_bytes(data)
    with page.expect_download() as svg:
        page.locator("#cb-flow-svg").click()
    drawing = Path(svg.value.path()).read_text(encoding="utf-8")
    assert "KH-CCOS" in drawing and CASH_OUT_WALLET not in drawing
    (me.results / f"flow-{language}.svg").write_text(drawing, encoding="utf-8")

    # Asked again, the page says so clearly and the database holds one request.
    _follow(page, VICTIM_ACCOUNT)
    page.locator(".cb-flow-contact").click()
    page.locator(".cb-flow-answer.cb-flow-error").wait_for(state="attached")
    assert ContactRequest.objects.count() == 1
    assert problems == [] or all("409" in p for p in problems)
    me.close()


def test_kh_ccos_follows_the_same_money_into_its_own_case_without_a_border(
    browser, live_server, demo
):
    kh = _session(browser, live_server, demo["user"]("KH-CCOS"), "kh-flow", "en")
    _open_network(kh, demo["case"])
    _follow(kh.page, VICTIM_ACCOUNT)
    assert CASH_OUT_WALLET in _flow_labels(kh.page)
    assert kh.page.locator(".cb-flow-border").count() == 0
    kh.shot("flow-04-kh-ccos")
    kh.close()


def test_an_outsider_gets_no_case_page(browser, live_server, demo):
    outsider = Session(browser, live_server, demo["user"]("TH-CCIB"), "th-flow")
    response = outsider.goto(f"/admin/cases/case/{demo['case'].pk}/change/")
    assert response is not None and response.status == 404
    assert OPERATOR_WALLET not in outsider.page.content()
    outsider.close()
