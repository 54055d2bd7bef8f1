"""Every admin URL, discovered from the registry, leaks nothing to an outsider.

The pages are not listed by hand: each registered ModelAdmin's changelist,
add, change, history and delete pages, its custom object URLs, its search and
every autocomplete endpoint are visited as a member of an agency (UNODC)
that does not participate in the case. A page added later is covered
without touching this file.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.choices import AgencyKind
from agencies.models import IdentityProvider
from cases import mla, services
from cases.choices import AccessLevel, HandlingCode
from gate.roles import Role
from notifications.services import create_webhook_endpoint
from tests.admin_client import login
from tests.cases.mla.helpers import draft
from tests.factories import make_agency, make_case, make_document, make_network, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    shared_case,
    task,
    note,
    knp_coordinator,
    unodc,
    ccos,
    kh_coordinator,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """The case the outsider must not see, with every kind of child (task,
    note, identifier, evidence document, MLA request and its history, the
    notifications and audit events they cause), plus a KH-CCOS case shared
    with UNODC so the outsider's pages are not empty."""
    settings.MEDIA_ROOT = str(tmp_path)
    strict = make_case(
        knp_coordinator,
        title="Strict wallet tracing Ochre-Falcon",
        summary="Ledger of Ochre-Falcon wallets.",
        handling_code=HandlingCode.AMBER_STRICT,
    )
    own = make_case(kh_coordinator, title="UNODC visible training case")
    services.share_case(actor=kh_coordinator, case=own, agency=unodc, level=AccessLevel.VIEW)
    from cases.deconfliction import add_identifier

    identifier = add_identifier(
        actor=knp_coordinator,
        case=shared_case,
        kind="email",
        value="boss@hidden-compound.example",
        notes="Seen on the compound's payroll sheet",
    )
    document = make_document(knp_coordinator, shared_case)
    kh_moj = make_agency("KH-MOJ", country="KH", kind=AgencyKind.CENTRAL_AUTHORITY)
    # Delivered as after a commit: KR-KNP's coordinator is told of the acknowledgement.
    with django_capture_on_commit_callbacks(execute=True):
        mla_request = mla.submit_mla_request(
            actor=knp_coordinator, request=draft(knp_coordinator, shared_case, kh_moj)
        )
        mla.acknowledge_mla_request(actor=make_user(kh_moj), request=mla_request)
    # KR-KNP's own security records: a partner webhook, a TOTP device, a failed login.
    create_webhook_endpoint(
        actor=make_user(knp_coordinator.membership.agency, Role.AGENCY_ADMIN),
        url="https://knp.example/hook",
    )
    TOTPDevice.objects.create(user=knp_coordinator, name="KNP phone")
    IdentityProvider.objects.create(
        agency=knp_coordinator.membership.agency,
        issuer="https://idp.police.go.kr/realms/knp",
        client_id="casebridge",
        client_secret_env="OIDC_KR_KNP_SECRET",
        email_domains="police.go.kr",
    )
    AccessAttempt.objects.create(
        username=knp_coordinator.username,
        ip_address="10.1.2.3",
        user_agent="test",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    # Its network: a person, an account, a wallet, the link, money moved, a freeze.
    network = make_network(knp_coordinator, shared_case)
    hidden = [shared_case, strict]
    secrets = [
        shared_case.title,
        shared_case.reference,
        str(shared_case.public_id),
        strict.title,
        strict.reference,
        str(strict.public_id),
        task.title,
        str(task.public_id),
        note.body,
        str(note.public_id),
        identifier.raw_value,
        identifier.notes,
        str(identifier.public_id),
        document.title,
        document.sha256,
        str(document.public_id),
        mla_request.facts,
        str(mla_request.public_id),
        *(public_id for ids in network.values() for public_id in ids),
        "Chen Wei",
        "USDT on the wallet",
        "DE89370400440532013000",
        "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo",
    ]
    return {"hidden": hidden, "secrets": secrets, "task": task, "note": note, "own": own}


def outsiders(unodc):
    return [make_user(unodc, Role.COORDINATOR), make_user(unodc, Role.AGENCY_ADMIN)]


def assert_no_secret(response, secrets, where):
    body = response.content.decode()
    leaked = [s for s in secrets if s in body]
    assert not leaked, f"{where} leaks {leaked}"


def hidden_objects(user, model_admin, world):
    """Every row of the model the outsider's queryset does not contain."""
    model = model_admin.model
    request = type("R", (), {"user": user})()
    visible = set(model_admin.get_queryset(request).values_list("pk", flat=True))
    return [obj for obj in model._default_manager.all() if obj.pk not in visible]


def object_urls(model_admin, obj):
    """change, history, delete and any custom `<object_id>` URL of the admin."""
    info = model_admin.opts.app_label, model_admin.opts.model_name
    urls = []
    for pattern in model_admin.get_urls():
        name = getattr(pattern, "name", None)
        ours = name and name.startswith(f"{info[0]}_{info[1]}_")
        route = str(pattern.pattern)
        if ours and ("object_id" in route or "<id>" in route):
            urls.append(reverse(f"admin:{name}", args=[obj.pk]))
    return urls


# Models whose every row an outsider may see: the agency directory.
NOTHING_HIDDEN = {"agencies.agency"}


def test_every_registered_model_has_hidden_rows_in_the_world(world, unodc):
    """Guards the matrix: a model with no hidden row would pass it vacuously."""
    user = outsiders(unodc)[0]
    empty = [
        model_admin.opts.label_lower
        for model_admin in admin.site._registry.values()
        if model_admin.opts.label_lower not in NOTHING_HIDDEN
        and not hidden_objects(user, model_admin, world)
    ]
    assert not empty, f"add a hidden row of {empty} to the `world` fixture"


def test_the_secrets_are_visible_to_the_lead(world, knp_coordinator):
    """Guards the test itself: the strings it looks for are on the lead's pages."""
    body = login(knp_coordinator).get(reverse("admin:cases_case_changelist")).content.decode()
    assert world["hidden"][0].title in body and world["hidden"][1].reference in body


def test_every_registered_changelist_and_add_page_hides_the_case(world, unodc):
    for user in outsiders(unodc):
        client = login(user)
        for model in admin.site._registry:
            info = model._meta.app_label, model._meta.model_name
            for name in ("changelist", "add"):
                url = reverse(f"admin:{info[0]}_{info[1]}_{name}")
                response = client.get(url)
                assert response.status_code in (200, 403), url
                assert_no_secret(response, world["secrets"], url)


def test_every_registered_search_finds_nothing_hidden(world, unodc):
    for user in outsiders(unodc):
        client = login(user)
        for model in admin.site._registry:
            info = model._meta.app_label, model._meta.model_name
            url = reverse(f"admin:{info[0]}_{info[1]}_changelist")
            for secret in world["secrets"]:
                # The page echoes the search term: search a part, look for the whole.
                response = client.get(url, {"q": secret[1:-1]})
                assert response.status_code in (200, 403), url
                assert_no_secret(response, world["secrets"], f"{url}?q={secret}")


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_object_page_of_a_hidden_object_is_404(world, unodc, method):
    checked = 0
    for user in outsiders(unodc):
        client = login(user)
        for model_admin in admin.site._registry.values():
            for obj in hidden_objects(user, model_admin, world):
                for url in object_urls(model_admin, obj):
                    response = getattr(client, method)(url, {"post": "yes"})
                    assert response.status_code == 404, f"{method} {url}"
                    assert_no_secret(response, world["secrets"], url)
                    checked += 1
    assert checked > 20  # the discovery found pages (a test that cannot fail is a defect)


def test_every_autocomplete_endpoint_finds_nothing_hidden(world, unodc):
    checked = 0
    for user in outsiders(unodc):
        client = login(user)
        for model, model_admin in admin.site._registry.items():
            for field_name in model_admin.autocomplete_fields:
                for term in ["", *(s[1:-1] for s in world["secrets"])]:
                    response = client.get(
                        reverse("admin:autocomplete"),
                        {
                            "app_label": model._meta.app_label,
                            "model_name": model._meta.model_name,
                            "field_name": field_name,
                            "term": term,
                        },
                    )
                    assert response.status_code in (200, 403)
                    assert_no_secret(response, world["secrets"], f"autocomplete {field_name}")
                    checked += 1
    assert checked


def test_my_work_and_preferences_show_nothing_hidden(world, unodc):
    for user in outsiders(unodc):
        client = login(user)
        for url in (reverse("admin:index"), reverse("admin:preferences")):
            response = client.get(url)
            assert response.status_code == 200
            assert_no_secret(response, world["secrets"], url)


def test_the_outsider_still_sees_what_was_shared_with_it(world, unodc):
    """The outsider's pages are not empty by accident: the case shared with it shows."""
    client = login(make_user(unodc, Role.COORDINATOR))
    body = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert world["own"].reference in body
