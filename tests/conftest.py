"""The standard world, after healthchecks' Alice/Bob/Charlie.

* `knp_coordinator` (KR-KNP) leads `case`;
* `kh_investigator` (KH-CCOS) is in an agency the case is shared with, at
  `contribute` (`shared_case` fixture);
* `outsider` (UNODC) belongs to an agency that must see nothing.
"""

import pytest
from rest_framework.test import APIClient

from cases import services
from cases.choices import AccessLevel
from gate.roles import Role

from .factories import make_agency, make_case, make_user


@pytest.fixture(autouse=True, scope="session")
def _plain_http_for_live_server():
    """SecurityMiddleware reads SECURE_SSL_REDIRECT once, when a handler is
    built: the session-wide live server is built before any per-test
    override, so switch the redirect off for the whole session first."""
    from django.test.utils import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


AUDIT_TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditchainhead")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The flush between transactional tests truncates every table, which the
    audit tables refuse (audit 0005): allowed in this throwaway database only.
    `tests/audit/test_truncate.py` switches the refusal back on to test it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate")


@pytest.fixture(autouse=True)
def _english_until_asked():
    """A request through the test client activates its reader's language in
    this thread and leaves it active (as every request does in a server);
    each test starts again from the default language."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _test_friendly_security(settings):
    """The test client speaks plain HTTP and logs in without a phone.

    Tests run with DEBUG off (production settings), so this switches off
    only what would get in every other test's way: the HTTPS redirect, the
    second factor and axes (whose backend refuses `client.login()`, which
    passes no request). tests/security/ switches them back on. The cache is
    cleared so rate-limit counts never leak from one test to the next.
    """
    from django.core.cache import cache

    settings.SECURE_SSL_REDIRECT = False
    settings.REQUIRE_2FA_FOR_PRIVILEGED = False
    settings.REQUIRE_2FA_FOR_ALL = False
    settings.AXES_ENABLED = False
    # A fast hasher: real PBKDF2 makes every login in a test cost a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Deconfliction needs its HMAC key; with DEBUG off there is no default.
    settings.DECONFLICTION_HMAC_KEY = "test-deconfliction-key"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def knp(db):
    return make_agency(
        "KR-KNP", name="Korean National Police Agency", country="KR", timezone="Asia/Seoul"
    )


@pytest.fixture
def ccos(db):
    return make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")


@pytest.fixture
def unodc(db):
    return make_agency(
        "UNODC", name="UNODC", country="INT", kind="international", timezone="Asia/Bangkok"
    )


@pytest.fixture
def knp_coordinator(knp):
    return make_user(knp, Role.COORDINATOR)


@pytest.fixture
def knp_viewer(knp):
    return make_user(knp, Role.VIEWER)


@pytest.fixture
def kh_coordinator(ccos):
    return make_user(ccos, Role.COORDINATOR)


@pytest.fixture
def kh_investigator(ccos):
    return make_user(ccos, Role.INVESTIGATOR)


@pytest.fixture
def kh_viewer(ccos):
    return make_user(ccos, Role.VIEWER)


@pytest.fixture
def outsider(unodc):
    return make_user(unodc, Role.COORDINATOR)


@pytest.fixture
def case(knp_coordinator):
    return make_case(knp_coordinator)


@pytest.fixture
def thcc(db):
    return make_agency("TH-CCIB", country="TH")


@pytest.fixture
def php(db):
    return make_agency("PH-PNP", country="PH")


@pytest.fixture
def co_managed(case, knp_coordinator, ccos, php):
    """KR-KNP's case, managed by KH-CCOS too, and PH-PNP in it confidentially."""
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.MANAGE)
    services.share_case(
        actor=knp_coordinator, case=case, agency=php, level=AccessLevel.VIEW, confidential=True
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def shared_case(case, knp_coordinator, ccos):
    """`case`, shared with KH-CCOS at contribute."""
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    case.refresh_from_db()
    return case


@pytest.fixture
def task(shared_case, knp_coordinator, ccos):
    return services.create_task(
        actor=knp_coordinator, case=shared_case, title="Trace USDT wallets", assigned_agency=ccos
    )


@pytest.fixture
def note(shared_case, knp_coordinator):
    return services.add_note(
        actor=knp_coordinator, case=shared_case, body="Victim statements collected in Seoul."
    )


@pytest.fixture
def api():
    """Return a function giving an APIClient authenticated as `user` (session-less)."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


# Not autouse: the margin changes what a sync page holds, so the API modules
# that want none say so (`pytestmark = pytest.mark.usefixtures("_no_sync_margin")`).
@pytest.fixture
def _no_sync_margin(settings):
    """Test client and database share one clock: no skew margin to wait out."""
    settings.API_SYNC_CLOCK_MARGIN = 0


@pytest.fixture(scope="session")
def browser():
    """One Chromium for every browser test of the session (tests/browser.py):
    Playwright's sync API allows one instance per thread."""
    from tests.browser import launch_browser

    yield from launch_browser()
