"""The investigators' day in a real browser (Debian's Chromium through Playwright).

A KNP coordinator opens a case and shares it with KH-CCOS; a KH-CCOS
investigator finds it, writes in the journal and moves a task; a UNODC user
finds it nowhere; the Korean and Khmer screens are translated. Each step
leaves a screenshot in test-results/.
"""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import TaskStatus
from cases.models import Case, Note, Task
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR",
                      timezone="Asia/Seoul")  # fmt: skip
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    unodc = make_agency("UNODC", name="UNODC", country="INT", kind="international")
    return {
        "knp": make_user(knp, Role.COORDINATOR, "knp.coordinator"),
        "kh": make_user(ccos, Role.INVESTIGATOR, "kh.investigator"),
        "unodc": make_user(unodc, Role.COORDINATOR, "unodc.coordinator"),
        "ccos": ccos,
    }


def test_a_case_travels_from_knp_to_kh_ccos_and_stays_hidden_from_unodc(
    browser, live_server, world
):
    # 1. The KNP coordinator opens a case.
    knp = Session(browser, live_server, world["knp"], "knp")
    knp.goto("/admin/cases/case/add/")
    knp.page.fill("#id_title", "Golden Fortune compound")
    knp.page.fill("#id_summary", "Investment fraud run from Sihanoukville.")
    knp.page.check("input[name=crime_types][value=investment_fraud]")
    knp.shot("01-create-case")
    knp.page.click("input[name=_save]")
    case = Case.objects.get(title="Golden Fortune compound")
    assert case.reference.startswith("KR-KNP-")

    # 2. ... and shares it with KH-CCOS at "contribute" (action with its own form).
    knp.goto("/admin/cases/case/")
    knp.page.check(f"input[name=_selected_action][value='{case.pk}']")
    knp.page.select_option("select[name=action]", "share_with_agency")
    knp.page.click("button[name=index]")
    knp.page.select_option("#id_agency", str(world["ccos"].pk))
    knp.page.select_option("#id_level", "contribute")
    knp.shot("02-share-form")
    knp.page.click("input[name=apply_submit]")
    knp.page.wait_for_selector("ul.messagelist")
    knp.shot("03-shared")
    assert case.participations.filter(agency=world["ccos"], level="contribute").exists()
    task = services.create_task(
        actor=world["knp"], case=case, title="Trace USDT wallets", assigned_agency=world["ccos"]
    )
    knp.close()

    # 3. The KH-CCOS investigator sees it on "My work", writes a note, moves the task.
    kh = Session(browser, live_server, world["kh"], "kh")
    assert case.reference in kh.page.inner_text("#recent-shares")
    kh.shot("04-my-work")
    kh.page.click(f"#recent-shares a:has-text('{case.reference}')")
    kh.page.click("#cb-tab-journal")  # the case workspace shows one tab at a time
    kh.page.fill("#id_note-body", "Raid planned; 40 phones to seize.")
    kh.shot("05-note")
    kh.page.click("#cb-note-form input[type=submit]")
    kh.page.wait_for_selector("ul.messagelist .success")
    assert Note.objects.filter(case=case, body__startswith="Raid planned").exists()
    # The task moves on its own page, opened from the Tasks tab.
    kh.page.click("#cb-tab-tasks")
    kh.page.click(f"#cb-task-open-{task.pk}")
    kh.page.select_option("select[name=status]", TaskStatus.IN_PROGRESS)
    kh.shot("05-task")
    kh.page.click("input[name=_save]")
    kh.page.wait_for_selector("ul.messagelist .success")
    kh.shot("06-saved")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.IN_PROGRESS
    kh.close()

    # 4. The UNODC coordinator finds it nowhere.
    un = Session(browser, live_server, world["unodc"], "unodc")
    secrets = (case.reference, case.title, str(case.public_id))

    def hidden(text: str) -> bool:
        return not any(secret in text for secret in secrets)

    assert hidden(un.page.content())
    un.goto("/admin/cases/case/")
    assert hidden(un.page.content())
    un.shot("07-unodc-list")
    un.goto(f"/admin/cases/case/?q={case.reference[3:]}")
    assert hidden(un.page.content())
    un.shot("08-unodc-search")
    response = un.goto(
        "/admin/autocomplete/?app_label=cases&model_name=task&field_name=case&term=Golden"
    )
    assert response.status == 200 and hidden(un.page.content())
    un.shot("09-unodc-autocomplete")
    for step, path in (
        ("10-unodc-history", f"/admin/cases/case/{case.pk}/history/"),
        ("11-unodc-direct-url", f"/admin/cases/case/{case.pk}/change/"),
        ("12-unodc-task-url", f"/admin/cases/task/{task.pk}/change/"),
    ):
        response = un.goto(path)
        assert response.status == 404, path
        assert hidden(un.page.content())
        un.shot(step)
    un.close()


@pytest.mark.parametrize(
    ("language", "heading", "action"),
    [("ko", "내 업무", "로그아웃"), ("km", "ការងាររបស់ខ្ញុំ", "ចាកចេញ")],
)
def test_korean_and_khmer_screens_are_translated(
    browser, live_server, world, language, heading, action
):
    membership = world["kh"].membership
    membership.language = language
    membership.save(update_fields=["language"])
    session = Session(browser, live_server, world["kh"], language)
    assert session.page.inner_text("h1") == heading
    assert action in session.page.inner_text("#user-tools")
    session.goto("/admin/cases/case/")
    session.shot(f"13-{language}-cases")
    session.goto("/admin/")
    session.shot(f"14-{language}-my-work")
    session.close()
