"""The network picture in the case workspace, in a real browser (Debian's
Chromium through Playwright), in English, Khmer and Korean.

A case like the demo's pig-butchering case: KR-KNP leads it, KH-CCOS
contributes the compound (named in Khmer), its operator, the shell company
and the compound's hot wallet; KR-KNP records a victim (in Hangul), her
account, a mule account and the money. KH-CCOS's own laundering case, shared
with KR-KNP to view, holds the same hot wallet and the USDT that left it.

KR-KNP's analyst opens the Network tab and sees the picture, filters the
persons out and back, clicks the hot wallet and expands it one hop (the
laundering case's onward wallet appears), then saves the picture as PNG and
SVG. An outsider's case page and graph API are 404. Screenshots go to
test-results/admin-browser/.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from cases import graph, networks, services
from cases.choices import AccessLevel, EntityKind, LinkKind, PersonRole
from cases.deconfliction import add_identifier
from gate.roles import Role
from tests.browser import Session, click_graph_node
from tests.factories import make_agency, make_case, make_user
from tests.i18n import english_leftovers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOT_WALLET = "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo"
ONWARD_WALLET = "TVSbvKm5EfXQ7uGJK1g11CfngSVPLc1Lk6"
COMPOUND = "ភូមិមាសសំណាង"
VICTIM = "김지영"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(db):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    unodc = make_agency("UNODC", name="UNODC", country="INT", kind="international")
    lead = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    analyst = make_user(knp, Role.INVESTIGATOR, "knp.analyst")
    kh_lead = make_user(ccos, Role.COORDINATOR, "kh.coordinator")
    kh = make_user(ccos, Role.INVESTIGATOR, "kh.investigator")
    now = timezone.now()
    case = make_case(lead, title="Sihanoukville compound: pig-butchering")
    services.share_case(actor=lead, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)

    def entity(actor, kind, name, **fields):
        return networks.create_entity(actor=actor, case=case, kind=kind, name=name, **fields)

    def link(actor, kind, **ends):
        return networks.create_link(actor=actor, case=case, kind=kind, **ends)

    def money(actor, sender, recipient, amount, currency, days, on=None):
        return networks.record_transaction(
            actor=actor, case=on or case, from_identifier=sender, to_identifier=recipient,
            amount=Decimal(amount), currency=currency, occurred_at=now - dt.timedelta(days=days),
        )  # fmt: skip

    compound = entity(kh, EntityKind.PLACE, COMPOUND, country="KH")
    shell = entity(kh, EntityKind.ORGANISATION, "Golden Sands Trading Co., Ltd.")
    boss = entity(kh, EntityKind.PERSON, "Chen Wei", role=PersonRole.SUSPECT)
    hot = add_identifier(actor=kh, case=case, kind="crypto_wallet", value=HOT_WALLET, chain="tron")
    link(kh, LinkKind.CONTROLS, from_entity=boss, to_entity=shell)
    link(kh, LinkKind.LOCATED_AT, from_entity=shell, to_entity=compound)
    link(kh, LinkKind.HOLDS_WALLET, from_entity=shell, to_identifier=hot)
    victim = entity(analyst, EntityKind.PERSON, VICTIM, role=PersonRole.VICTIM)
    account = add_identifier(
        actor=analyst, case=case, kind="bank_account", value="123-45-6789-012", bank_code="004",
        country="KR",
    )  # fmt: skip
    mule = add_identifier(
        actor=analyst, case=case, kind="bank_account", value="110-555-123456", bank_code="088",
        country="KR",
    )  # fmt: skip
    link(analyst, LinkKind.HOLDS_ACCOUNT, from_entity=victim, to_identifier=account)
    money(analyst, account, mule, "30000000", "KRW", 62)
    money(analyst, account, mule, "20000000", "KRW", 55)
    money(analyst, mule, hot, "35750", "USDT-TRC20", 54)

    laundering = make_case(kh_lead, title="Laundering through casinos")
    services.share_case(actor=kh_lead, case=laundering, agency=knp, level=AccessLevel.VIEW)
    same = add_identifier(
        actor=kh, case=laundering, kind="crypto_wallet", value=HOT_WALLET, chain="tron"
    )
    onward = add_identifier(
        actor=kh, case=laundering, kind="crypto_wallet", value=ONWARD_WALLET, chain="tron"
    )
    money(kh, same, onward, "30000", "USDT-TRC20", 50, on=laundering)
    return {
        "case": case,
        "hot": hot,
        "analyst": analyst,
        "kh_lead": kh_lead,
        "unodc": make_user(unodc, Role.COORDINATOR, "unodc.coordinator"),
    }


def _open_network(session, case) -> None:
    session.goto(f"/admin/cases/case/{case.pk}/change/")
    session.page.locator("#cb-tab-network").click()
    session.page.locator("#cb-graph[data-cb-ready]").wait_for(state="attached", timeout=20000)
    session.page.locator("#cb-graph-canvas").scroll_into_view_if_needed()


def _count(page, what: str) -> int:
    return int(page.locator("#cb-graph").get_attribute(f"data-cb-{what}"))


@pytest.mark.parametrize("language", ["en", "km", "ko"])
def test_an_analyst_draws_filters_expands_and_saves_the_network(
    browser, live_server, world, language
):
    membership = world["analyst"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    me = Session(browser, live_server, world["analyst"], f"knp-graph-{language}")
    page = me.page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _open_network(me, world["case"])

    # 4 entities, 3 identifiers, the laundering case holding the hot wallet;
    # 4 links, 2 money edges (the victim's two payments are one), "held in".
    assert (_count(page, "nodes"), _count(page, "edges")) == (8, 7)
    me.shot(f"graph-01-drawn-{language}")
    if language != "en":
        section = page.locator("#cb-graph").inner_text()
        assert english_leftovers(section, language, data=[]) == []

    page.locator("#cb-graph-kinds input[value=person]").uncheck()
    assert _count(page, "nodes") == 6  # Chen Wei and the victim
    assert _count(page, "edges") == 5  # and their two links
    me.shot(f"graph-02-without-persons-{language}")
    page.locator("#cb-graph-kinds input[value=person]").check()
    assert _count(page, "nodes") == 8

    click_graph_node(page, HOT_WALLET)
    expand = page.locator("#cb-graph-expand")
    assert expand.is_enabled()
    assert expand.get_attribute("data-cb-node") == f"identifier:{world['hot'].public_id}"
    expand.click()
    page.locator("#cb-graph[data-cb-expanded]").wait_for(state="attached")
    assert _count(page, "nodes") == 9  # the onward wallet, on the laundering case
    assert _count(page, "edges") == 8  # and the USDT sent to it
    assert HOT_WALLET in page.locator("#cb-graph-details").inner_text()
    me.shot(f"graph-03-expanded-{language}")

    with page.expect_download() as png:
        page.locator("#cb-graph-png").click()
    data = Path(png.value.path()).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert png.value.suggested_filename == f"network-{world['case'].reference}.png"
    (me.results / f"graph-{language}.png").write_bytes(data)

    with page.expect_download() as svg:
        page.locator("#cb-graph-svg").click()
    text = Path(svg.value.path()).read_text(encoding="utf-8")
    root = ET.fromstring(text.split("?>", 1)[1])  # noqa: S314  # our own page's SVG
    assert root.tag == f"{SVG_NS}svg"
    labels = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert {COMPOUND, VICTIM, "Chen Wei"} <= labels
    assert len(root.findall(f"{SVG_NS}path")) == 8  # an edge each
    (me.results / f"graph-{language}.svg").write_text(text, encoding="utf-8")
    assert problems == []
    me.close()


def test_an_outsider_gets_no_page_and_no_graph(browser, live_server, world):
    un = Session(browser, live_server, world["unodc"], "unodc-graph")
    response = un.goto(f"/admin/cases/case/{world['case'].pk}/change/")
    assert response is not None and response.status == 404
    api = un.page.request.get(f"{un.base}/api/v1/cases/{world['case'].public_id}/graph/")
    assert api.status == 404
    assert "Chen Wei" not in api.text() and HOT_WALLET not in api.text()
    un.shot("graph-04-outsider")
    un.close()


MORE_CASES = {
    "en": "Held on more cases than are drawn",
    "km": "មាននៅលើសំណុំរឿងច្រើនជាងដែលបានបង្ហាញ",
    "ko": "표시된 것보다 많은 사건에 기록됨",
}


@pytest.mark.parametrize("language", sorted(MORE_CASES))
def test_a_wallet_on_more_cases_than_drawn_says_so_when_clicked(
    browser, live_server, world, language
):
    """Five more KH-CCOS cases shared with KR-KNP hold the hot wallet: the
    picture draws five of its six other cases and the wallet says so."""
    kh_lead = world["kh_lead"]
    knp = world["analyst"].membership.agency
    for number in range(5):
        other = make_case(kh_lead, title=f"Compound payroll {number}")
        services.share_case(actor=kh_lead, case=other, agency=knp, level=AccessLevel.VIEW)
        add_identifier(
            actor=kh_lead, case=other, kind="crypto_wallet", value=HOT_WALLET, chain="tron"
        )
    membership = world["analyst"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    me = Session(browser, live_server, world["analyst"], f"knp-graph-more-{language}")
    _open_network(me, world["case"])
    assert _count(me.page, "nodes") == 7 + 5  # the case's seven, five of the six other cases
    click_graph_node(me.page, HOT_WALLET)
    assert MORE_CASES[language] in me.page.locator("#cb-graph-details").inner_text()
    me.shot(f"graph-04-more-cases-{language}")
    me.close()


TRUNCATED = {
    "en": "Only the busiest money edges are drawn",
    "km": "បង្ហាញតែខ្សែលុយដែលសកម្មបំផុតប៉ុណ្ណោះ",
    "ko": "거래가 가장 많은 자금 연결만 표시됩니다",
}


@pytest.mark.parametrize("language", sorted(TRUNCATED))
def test_a_picture_with_more_money_than_drawn_says_only_the_busiest_are_drawn(
    browser, live_server, world, language, monkeypatch
):
    """Room for one money edge of the case's two: the busiest (the victim's
    two payments to the mule) is drawn, and the status line says why the
    other is not."""
    monkeypatch.setattr(graph, "MAX_TRANSACTION_EDGES", 1)
    membership = world["analyst"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    me = Session(browser, live_server, world["analyst"], f"knp-graph-truncated-{language}")
    _open_network(me, world["case"])
    money = me.page.evaluate(
        "document.getElementById('cb-graph-canvas').cbGraph"
        ".edges('.transaction').map(e => e.data('api').count)"
    )
    assert money == [2]
    assert TRUNCATED[language] in me.page.locator("#cb-graph-status").inner_text()
    me.shot(f"graph-05-truncated-{language}")
    me.close()
