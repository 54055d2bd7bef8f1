"""In Chromium: a KH-CCOS investigator finds the task from its notifications,
by clicks from the landing page (issue 16)."""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import AccessLevel
from gate.roles import Role
from tests.browser import Session
from tests.factories import make_agency, make_case, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager"),
]


def test_investigator_finds_the_task_from_the_landing_page(browser, live_server):
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    unodc = make_agency("UNODC", name="UNODC", country="INT", kind="international")
    coordinator = make_user(knp, Role.COORDINATOR, "knp.coordinator")
    investigator = make_user(ccos, Role.INVESTIGATOR, "kh.investigator")
    outsider = make_user(unodc, Role.COORDINATOR, "unodc.coordinator")
    case = make_case(coordinator)
    services.share_case(actor=coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    task = services.create_task(
        actor=coordinator, case=case, title="Trace USDT wallets", assigned_agency=ccos
    )

    kh = Session(browser, live_server, investigator, "notif-kh")
    panel = kh.page.locator("#notifications")
    link = panel.locator("a.cb-notification-link", has_text="Trace USDT wallets")
    assert link.count() == 1
    assert f"New task for KH-CCOS on case {case.reference}" in link.inner_text()
    kh.shot("01-landing-notifications")
    link.click()
    kh.page.wait_for_url(f"{kh.base}/admin/cases/task/{task.pk}/change/")
    assert "Trace USDT wallets" in kh.page.content()
    kh.shot("02-task-from-notification")

    kh.page.click("#site-name a")  # back to the landing page: the notification was read
    kh.page.wait_for_url(f"{kh.base}/admin/")
    assert kh.page.locator("#notifications a.cb-notification-link").count() == 0
    kh.page.click("#notifications a.cb-all-notifications")
    kh.page.wait_for_url(f"{kh.base}/admin/notifications/notification/")
    assert kh.page.locator("a.cb-notification-link.cb-unread").count() == 0
    assert kh.page.locator("#result_list", has_text="Task assigned").count() == 1
    kh.shot("03-notification-list")
    kh.page.click("#result_list .field-created_at a")  # the notification's own page
    kh.page.wait_for_url(f"{kh.base}/admin/notifications/notification/*/change/")
    target = kh.page.locator("a.cb-notification-target")
    assert target.get_attribute("href") == f"/admin/cases/task/{task.pk}/change/"
    kh.shot("04-notification-detail")
    kh.close()

    un = Session(browser, live_server, outsider, "notif-unodc")
    assert un.page.locator("#notifications a.cb-notification-link").count() == 0
    assert "Trace USDT wallets" not in un.page.content()
    un.close()
