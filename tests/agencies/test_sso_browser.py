"""“Sign in with KR-KNP” in Chromium, through the provider's own login page."""

from __future__ import annotations

import pytest

from agencies.models import Membership
from gate.roles import Role
from tests.browser import RESULTS_ROOT
from tests.factories import make_agency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = RESULTS_ROOT / "sso"


def test_sign_in_with_kr_knp_through_the_providers_login_page(
    browser, live_server, idp, register_provider
):
    knp = make_agency(
        "KR-KNP", name="Korean National Police Agency", country="KR", timezone="Asia/Seoul"
    )
    register_provider(knp, f"{live_server.url}/account/sso/{{code}}/callback/")
    idp.put_account(
        "browser.kim",
        password="provider-password-1",
        email="browser.kim@police.go.kr",
        email_verified=True,
        given_name="Minsu",
        family_name="Kim",
        groups=["knp-investigators"],
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.screenshot(path=str(RESULTS / "01-login-page.png"), full_page=True)
        page.get_by_role("link", name="Sign in with KR-KNP").click()

        page.wait_for_url(f"{idp.issuer}/interaction/**")
        assert page.title() == "Agency identity provider: sign in"
        page.fill("#idp-login", "browser.kim")
        page.fill("#idp-password", "provider-password-1")
        page.screenshot(path=str(RESULTS / "02-provider-login.png"), full_page=True)
        page.click("#idp-submit")

        page.wait_for_url(f"{live_server.url}/admin/")
        page.screenshot(path=str(RESULTS / "03-signed-in.png"), full_page=True)
        assert "MINSU" in page.inner_text("#user-tools").upper()
    finally:
        context.close()
    membership = Membership.objects.select_related("agency").get(
        user__email="browser.kim@police.go.kr"
    )
    assert membership.agency.code == "KR-KNP"
    assert membership.role == Role.INVESTIGATOR
