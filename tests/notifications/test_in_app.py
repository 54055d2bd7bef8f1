"""In-app notifications that lead somewhere (issue 16): each says what changed
in words, in the reader's language, links to a page the reader may open, is
read once opened; investigators hear of their tasks, notes and evidence."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from cases import mla, services
from cases.choices import HandlingCode
from gate.roles import Role
from notifications import dispatch, registry, rendering
from notifications.choices import OutboxStatus
from notifications.models import Notification, OutboxMessage
from tests.cases.mla.helpers import draft
from tests.factories import make_document, make_user

pytestmark = pytest.mark.usefixtures("eager")


def deliver_all() -> None:
    """Deliver what the test's (never committed) transaction emitted."""
    pending = OutboxMessage.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.PUBLISHED]
    ).order_by("created_at")
    for message in pending:
        dispatch.deliver_message(str(message.pk))


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def only(user, kind: str) -> Notification:
    return Notification.objects.get(recipient=user, kind=kind)


def shown(notification: Notification, reader=None) -> rendering.Shown:
    return rendering.present_one(notification, reader or notification.recipient)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def kh_moj(db):
    from agencies.choices import AgencyKind
    from tests.factories import make_agency

    return make_agency(
        "KH-MOJ", name="Ministry of Justice of Cambodia", country="KH",
        kind=AgencyKind.CENTRAL_AUTHORITY,
    )  # fmt: skip


@pytest.fixture
def moj_coordinator(kh_moj):
    return make_user(kh_moj, Role.COORDINATOR)


@pytest.fixture
def acknowledged(case, knp_coordinator, kh_moj, moj_coordinator):
    """KR-KNP's request to KH-MOJ (which is not on the case), acknowledged."""
    request = draft(knp_coordinator, case, kh_moj, requesting_reference="KR-KNP-MLA-0003")
    request = mla.submit_mla_request(actor=knp_coordinator, request=request)
    request = mla.acknowledge_mla_request(actor=moj_coordinator, request=request)
    deliver_all()
    return request


# --- who is told ---------------------------------------------------------------


def test_investigator_is_told_of_a_task_for_their_agency(task, kh_investigator):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    assert notification.text == f"New task for KH-CCOS on case {task.case.reference}"


def test_task_for_a_person_reaches_that_person_only(
    shared_case, knp_coordinator, ccos, kh_investigator, kh_coordinator
):
    colleague = make_user(ccos, Role.INVESTIGATOR)
    services.create_task(
        actor=knp_coordinator,
        case=shared_case,
        title="Trace USDT wallets",
        assigned_agency=ccos,
        assigned_user=kh_investigator,
    )
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    assert notification.text == f"A task on case {shared_case.reference} was assigned to you"
    others = Notification.objects.filter(recipient__in=[colleague, kh_coordinator])
    assert not others.filter(kind="task.assigned").exists()


def test_investigator_is_told_of_a_partners_note(shared_case, knp_coordinator, kh_investigator):
    services.add_note(actor=knp_coordinator, case=shared_case, body="Victims interviewed.")
    deliver_all()
    notification = only(kh_investigator, "note.added")
    assert notification.text == f"KR-KNP added a note to case {shared_case.reference}"


def test_a_red_note_tells_no_investigator_of_another_agency(
    shared_case, knp_coordinator, knp, kh_investigator
):
    colleague = make_user(knp, Role.INVESTIGATOR)
    services.add_note(
        actor=knp_coordinator,
        case=shared_case,
        body="Informant's name.",
        handling_code=HandlingCode.RED,
    )
    deliver_all()
    assert not Notification.objects.filter(recipient=kh_investigator).exists()
    assert only(colleague, "note.added")  # its own agency still hears of it


def test_investigator_is_told_of_new_evidence_with_its_title(
    shared_case, knp_coordinator, kh_investigator
):
    document = make_document(knp_coordinator, shared_case)
    deliver_all()
    notification = only(kh_investigator, "document.added")
    assert notification.text == f"KR-KNP added evidence to case {shared_case.reference}"
    assert document.title not in notification.text  # stored text (e-mail): no content
    assert shown(notification).text == (
        f"KR-KNP added evidence to case {shared_case.reference}: {document.title}"
    )


def test_outsider_agency_is_told_nothing(
    task, note, knp_coordinator, shared_case, outsider, kh_investigator
):
    make_document(knp_coordinator, shared_case)
    services.change_case_status(actor=knp_coordinator, case=shared_case, status="active")
    deliver_all()
    assert Notification.objects.filter(recipient=kh_investigator).count() == 4
    assert not Notification.objects.filter(recipient=outsider).exists()


# --- texts in words ------------------------------------------------------------


def test_case_status_change_names_the_new_status(shared_case, knp_coordinator, kh_investigator):
    services.change_case_status(actor=knp_coordinator, case=shared_case, status="active")
    deliver_all()
    notification = only(kh_investigator, "case.status_changed")
    assert notification.text == f"Case {shared_case.reference} status changed to Active"


def test_task_status_change_names_the_new_status(task, kh_investigator, knp_coordinator):
    services.update_task(actor=kh_investigator, task=task, status="in_progress")
    deliver_all()
    notification = only(knp_coordinator, "task.status_changed")
    assert notification.text == f"A task on case {task.case.reference} is now In progress"
    assert shown(notification).text.endswith(": Trace USDT wallets")


def test_mla_step_names_the_acting_agency_and_the_step(acknowledged, knp_coordinator):
    notification = only(knp_coordinator, "mla.transitioned")
    assert notification.text == "KH-MOJ acknowledged MLA request KR-KNP-MLA-0003"


def test_mla_submission_tells_the_requested_side_in_words(acknowledged, moj_coordinator):
    notification = only(moj_coordinator, "mla.submitted")
    assert notification.text == "KR-KNP sent MLA request KR-KNP-MLA-0003 to your agency"


def test_kind_labels_are_translatable_words():
    label = rendering.kind_label("mla.transitioned")
    assert isinstance(label, Promise)
    assert str(label) == "MLA request status changed"
    assert all(isinstance(v, Promise) for v in registry.status_labels("task").values())


def test_the_admin_renders_in_the_readers_language_not_the_delivery_one(
    task, kh_investigator, monkeypatch
):
    deliver_all()  # stored in English, the recipient's language at delivery
    notification = only(kh_investigator, "task.assigned")

    class LanguageProbe:  # renders as the language active while rendering
        def __mod__(self, params):
            return translation.get_language()

    monkeypatch.setitem(rendering.TEXTS, "task.assigned", LanguageProbe())
    for language in ("km", "ko"):
        with translation.override(language):
            assert shown(notification).text == f"{language}: Trace USDT wallets"
    assert notification.text.startswith("New task for KH-CCOS")


def test_texts_in_khmer_and_korean_go_through_the_catalogue(task, kh_investigator):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    for language in ("km", "ko"):
        with translation.override(language):
            text = shown(notification).text
            # Untranslated yet: the catalogue's fallback is the English source.
            expected = translation.gettext("New task for %(agency)s on case %(ref)s") % {
                "agency": "KH-CCOS",
                "ref": task.case.reference,
            }
            assert text.startswith(expected)


# --- links ---------------------------------------------------------------------


def test_task_notification_links_to_the_task_page_the_investigator_opens(task, kh_investigator):
    deliver_all()
    url = shown(only(kh_investigator, "task.assigned")).url
    assert url == f"/admin/cases/task/{task.pk}/change/"
    assert login(kh_investigator).get(url).status_code == 200


def test_note_and_evidence_link_to_the_case_page(shared_case, knp_coordinator, kh_investigator):
    services.add_note(actor=knp_coordinator, case=shared_case, body="Victims interviewed.")
    make_document(knp_coordinator, shared_case)
    deliver_all()
    client = login(kh_investigator)
    for kind in ("note.added", "document.added"):
        url = shown(only(kh_investigator, kind)).url
        assert url == f"/admin/cases/case/{shared_case.pk}/change/"
        assert client.get(url).status_code == 200


def test_requested_side_is_linked_to_the_mla_request_never_to_the_case(
    acknowledged, moj_coordinator, knp_coordinator
):
    client = login(moj_coordinator)
    url = shown(only(moj_coordinator, "mla.submitted")).url
    assert url == f"/admin/cases/mlarequest/{acknowledged.pk}/change/"
    assert client.get(url).status_code == 200
    page = client.get(url).content.decode()
    assert f"/admin/cases/case/{acknowledged.case_id}/" not in page
    assert client.get(f"/admin/cases/case/{acknowledged.case_id}/change/").status_code == 404
    # The requesting side opens it too.
    other = shown(only(knp_coordinator, "mla.transitioned")).url
    assert login(knp_coordinator).get(other).status_code == 200


def test_no_link_and_no_title_once_the_reader_lost_access(
    task, kh_investigator, knp_coordinator, ccos
):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    services.revoke_case(
        actor=knp_coordinator,
        participation=task.case.participations.get(agency=ccos, revoked_at__isnull=True),
    )
    now = shown(notification)
    assert now.url is None
    assert "Trace USDT wallets" not in now.text
    client = login(kh_investigator)
    response = client.get(f"/admin/notifications/notification/{notification.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/notifications/notification/{notification.pk}/change/"
    page = client.get(response["Location"]).content.decode()
    assert "Trace USDT wallets" not in page
    assert f"/admin/cases/task/{task.pk}/" not in page


# --- reading -------------------------------------------------------------------


def test_following_the_link_marks_read_and_leads_to_the_object(task, kh_investigator):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    client = login(kh_investigator)
    response = client.get(f"/admin/notifications/notification/{notification.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/task/{task.pk}/change/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_detail_page_shows_words_kind_and_link_and_marks_read(task, kh_investigator):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    client = login(kh_investigator)
    page = client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f"New task for KH-CCOS on case {task.case.reference}: Trace USDT wallets" in body
    assert "Task assigned" in body and "task.assigned" not in body
    assert f'class="cb-notification-target" href="/admin/cases/task/{task.pk}/change/"' in body
    assert "Object id" not in body and str(task.public_id) not in body
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_list_shows_unread_in_bold_with_translated_kinds(task, kh_investigator):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    body = login(kh_investigator).get("/admin/notifications/notification/").content.decode()
    assert "Your notifications" in body
    assert f'href="/admin/notifications/notification/{notification.pk}/open/"' in body
    assert '<strong><a class="cb-notification-link cb-unread"' in body
    assert "Task assigned" in body


def test_outsider_gets_404_on_another_agencys_notification(task, kh_investigator, outsider):
    deliver_all()
    notification = only(kh_investigator, "task.assigned")
    client = login(outsider)
    for page in ("open", "change"):
        url = f"/admin/notifications/notification/{notification.pk}/{page}/"
        response = client.get(url)
        assert response.status_code == 404
        assert task.title not in response.content.decode()
    listing = client.get("/admin/notifications/notification/").content.decode()
    assert task.case.reference not in listing
    notification.refresh_from_db()
    assert notification.read_at is None


# --- the landing page ----------------------------------------------------------


def test_landing_page_lists_unread_notifications_that_lead_to_the_task(task, kh_investigator):
    deliver_all()
    client = login(kh_investigator)
    body = client.get("/admin/").content.decode()
    notification = only(kh_investigator, "task.assigned")
    open_url = f"/admin/notifications/notification/{notification.pk}/open/"
    assert 'id="notifications"' in body and open_url in body
    assert "Trace USDT wallets" in body

    task_page = client.get(open_url, follow=True)
    assert task_page.status_code == 200
    assert task_page.redirect_chain[-1][0] == f"/admin/cases/task/{task.pk}/change/"
    assert open_url not in client.get("/admin/").content.decode()  # read: off the panel


def test_landing_page_of_an_outsider_shows_no_one_elses_notifications(task, outsider):
    deliver_all()
    body = login(outsider).get("/admin/").content.decode()
    assert "Trace USDT wallets" not in body
    assert "/open/" not in body


def test_every_link_of_every_notification_opens_for_its_reader(
    shared_case, task, knp_coordinator, kh_investigator, kh_coordinator, acknowledged, outsider
):
    from cases import deconfliction

    wallet = "0x52908400098527886E0F7030069857D2E4169EE7"
    services.add_note(actor=kh_investigator, case=shared_case, body="Wallet cluster mapped.")
    make_document(kh_investigator, shared_case)
    services.update_task(actor=kh_investigator, task=task, status="in_progress")
    services.change_case_status(actor=knp_coordinator, case=shared_case, status="active")
    deconfliction.add_identifier(
        actor=knp_coordinator, case=shared_case, kind="crypto_wallet", value=wallet,
        chain="ethereum",
    )  # fmt: skip
    searcher = make_user(outsider.membership.agency, Role.INVESTIGATOR)
    deconfliction.search(actor=searcher, identifiers=[("crypto_wallet", wallet, "ethereum")])
    deliver_all()

    kinds = set()
    for notification in Notification.objects.select_related("recipient"):
        url = shown(notification).url
        assert url, notification.kind
        response = login(notification.recipient).get(url)
        assert response.status_code == 200, (notification.kind, url)
        kinds.add(notification.kind)
    assert kinds >= {
        "case.shared", "task.assigned", "task.status_changed", "note.added", "document.added",
        "case.status_changed", "mla.submitted", "mla.transitioned", "deconfliction.hit",
    }  # fmt: skip


def test_korean_list_title_is_not_djangos_select_to_view(task, kh_investigator):
    deliver_all()
    kh_investigator.membership.language = "ko"
    kh_investigator.membership.save(update_fields=["language"])
    body = login(kh_investigator).get("/admin/notifications/notification/").content.decode()
    with translation.override("ko"):
        title = translation.gettext("Your notifications")
        select_to_view = translation.gettext("Select %s to view") % "notification"
    assert f"<h1>{title}</h1>" in body
    assert select_to_view not in body


def test_a_confidential_partners_note_is_named_to_the_lead_only(
    shared_case, knp_coordinator, kh_investigator, unodc
):
    services.share_case(
        actor=knp_coordinator, case=shared_case, agency=unodc, level="contribute",
        confidential=True,
    )  # fmt: skip
    unodc_investigator = make_user(unodc, Role.INVESTIGATOR)
    services.add_note(actor=unodc_investigator, case=shared_case, body="Cash courier seen.")
    deliver_all()
    assert only(knp_coordinator, "note.added").text.startswith("UNODC added a note")
    assert not Notification.objects.filter(recipient=kh_investigator, kind="note.added").exists()


def test_mla_request_without_a_reference_is_named_by_its_parties(
    case, knp_coordinator, kh_moj, moj_coordinator
):
    request = draft(knp_coordinator, case, kh_moj)
    mla.submit_mla_request(actor=knp_coordinator, request=request)
    deliver_all()
    text = only(moj_coordinator, "mla.submitted").text
    assert text.startswith("KR-KNP sent MLA request KR-KNP→KH-MOJ ")
    assert str(request.public_id) not in text
