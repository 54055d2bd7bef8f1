"""Set-based fan-out: a message's cost does not grow with its audience, and
batching keeps every guarantee of the one-at-a-time delivery."""

import pytest
from django.core import mail
from django.utils import translation

from cases import access, services
from cases.choices import AccessLevel, HandlingCode
from gate.roles import Role
from notifications import dispatch, rendering
from notifications.choices import DeliveryStatus, OutboxStatus
from notifications.models import Delivery, Notification, OutboxMessage
from notifications.outbox import emit
from notifications.services import create_webhook_endpoint
from tests.factories import make_agency, make_user

pytestmark = pytest.mark.usefixtures("eager")

#: Queries to deliver one note to two agencies, one with a webhook, whatever
#: the audience's size: 20 for 5 recipients and for 200 (four of them are the
#: savepoints of the test transaction).
QUERIES_PER_MESSAGE = 20


def coordinators(agency, n):
    users = [make_user(agency, Role.COORDINATOR) for _ in range(n)]
    for i, user in enumerate(users[::2]):  # half of them read e-mail
        user.email = f"c{i}@{agency.code.lower()}.example"
        user.save(update_fields=["email"])
    return users


def note_message(case, actor, **note):
    note = services.add_note(actor=actor, case=case, body="Wallets traced.", **note)
    return OutboxMessage.objects.get(event_type="note.added", object_id=note.public_id)


@pytest.mark.parametrize("n", [5, 200])
def test_one_message_to_n_recipients_costs_a_constant_number_of_queries(
    n, shared_case, knp_coordinator, ccos, unodc, kh_admin, receiver, django_assert_max_num_queries
):
    services.share_case(actor=knp_coordinator, case=shared_case, agency=unodc, level="view")
    users = coordinators(ccos, n // 2) + coordinators(unodc, n - n // 2)
    create_webhook_endpoint(actor=kh_admin, url=receiver().url)
    message = note_message(shared_case, knp_coordinator)

    with django_assert_max_num_queries(QUERIES_PER_MESSAGE):
        result = dispatch.deliver_message(str(message.pk))

    assert len(result.webhook_ids) == 1
    told = set(Notification.objects.filter(message=message).values_list("recipient", flat=True))
    assert told == {u.pk for u in users}
    emailed = Notification.objects.filter(message=message, email_status=DeliveryStatus.PENDING)
    assert set(emailed.values_list("recipient", flat=True)) == {u.pk for u in users if u.email}


def test_fanning_out_a_delivered_message_again_creates_nothing(
    shared_case, knp_coordinator, ccos, kh_admin, receiver
):
    coordinators(ccos, 4)
    create_webhook_endpoint(actor=kh_admin, url=receiver().url)
    message = note_message(shared_case, knp_coordinator)
    dispatch.deliver_message(str(message.pk))
    deliveries, notifications = Delivery.objects.count(), Notification.objects.count()

    message.refresh_from_db()
    assert dispatch.fan_out(message) == []  # no webhook to send again either

    assert Delivery.objects.count() == deliveries
    assert Notification.objects.count() == notifications


def test_users_who_lost_access_before_delivery_get_nothing_within_a_batch(
    shared_case, knp_coordinator, ccos, unodc
):
    services.share_case(actor=knp_coordinator, case=shared_case, agency=unodc, level="view")
    staying = coordinators(ccos, 3)
    leaving = coordinators(unodc, 3)
    deactivated = staying.pop()
    message = note_message(shared_case, knp_coordinator)
    services.revoke_case(
        actor=knp_coordinator,
        participation=shared_case.participations.get(agency=unodc, revoked_at__isnull=True),
    )
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])

    dispatch.deliver_message(str(message.pk))

    told = set(Notification.objects.filter(message=message).values_list("recipient", flat=True))
    assert {u.pk for u in staying} <= told
    assert not told & {u.pk for u in [*leaving, deactivated]}


def test_a_red_note_reaches_only_its_own_agency_in_a_batch(shared_case, knp_coordinator, knp, ccos):
    colleagues = coordinators(knp, 3)
    coordinators(ccos, 3)
    message = note_message(shared_case, knp_coordinator, handling_code=HandlingCode.RED)

    dispatch.deliver_message(str(message.pk))

    told = set(Notification.objects.filter(message=message).values_list("recipient", flat=True))
    assert told == {u.pk for u in colleagues}


def test_mixed_language_audience_gets_each_their_language(
    shared_case, knp_coordinator, ccos, monkeypatch
):
    class LanguageProbe:  # renders as the language active while rendering
        def __mod__(self, params):
            return translation.get_language()

    monkeypatch.setitem(rendering.TEXTS, "note.added", LanguageProbe())
    users = coordinators(ccos, 6)
    languages = ["km", "ko", "en", "km", "", "ko"]
    for user, language in zip(users, languages, strict=True):
        user.membership.language = language
        user.membership.save(update_fields=["language"])
    message = note_message(shared_case, knp_coordinator)

    with translation.override("ko"):
        dispatch.deliver_message(str(message.pk))

    texts = dict(Notification.objects.filter(message=message).values_list("recipient", "text"))
    assert [texts[u.pk] for u in users] == ["km", "ko", "en", "km", "en", "ko"]


def test_the_audience_gate_agrees_with_the_per_user_gate(
    shared_case, knp_coordinator, knp, ccos, unodc
):
    """`users_who_see` and `agencies_that_see` are `is_visible` and
    `agency_can_see` for a set: the same answer, one by one, across a
    confidential participant (as author and as assignee) and agency-only
    handling codes."""
    services.share_case(
        actor=knp_coordinator,
        case=shared_case,
        agency=unodc,
        level=AccessLevel.CONTRIBUTE,
        confidential=True,
    )
    users = [
        *coordinators(knp, 2),
        *coordinators(ccos, 2),
        *coordinators(unodc, 2),
        make_user(make_agency(), Role.COORDINATOR),
    ]
    kh_author = users[2]
    agencies = [knp, ccos, unodc, users[-1].membership.agency]
    objects = [
        shared_case,
        services.add_note(actor=knp_coordinator, case=shared_case, body="A", handling_code="RED"),
        services.add_note(actor=kh_author, case=shared_case, body="B"),
        services.add_note(actor=kh_author, case=shared_case, body="C", handling_code="RED"),
        services.add_note(actor=users[4], case=shared_case, body="D"),
        services.create_task(
            actor=knp_coordinator, case=shared_case, title="T", assigned_agency=unodc
        ),
        services.create_task(
            actor=knp_coordinator, case=shared_case, title="U", assigned_agency=ccos
        ),
    ]
    for obj in objects:
        expected = {u.pk for u in users if access.is_visible(u, obj)}
        assert access.users_who_see(users, obj) == expected, obj
        seeing = {a.pk for a in agencies if access.agency_can_see(a, obj)}
        assert access.agencies_that_see(agencies, obj) == seeing, obj


def test_a_message_about_a_vanished_object_is_delivered_to_nobody(
    shared_case, knp_coordinator, ccos
):
    coordinators(ccos, 2)
    message = note_message(shared_case, knp_coordinator)
    OutboxMessage.objects.filter(pk=message.pk).update(object_id=ccos.public_id)

    dispatch.deliver_message(str(message.pk))

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert not Notification.objects.filter(message=message).exists()


#: Queries of a digest run for one reader, whatever the number of lines about
#: one object: 8 for 1 line and for 8 (two of them savepoints).
QUERIES_PER_DIGEST = 8


@pytest.mark.parametrize("lines", [1, 8])
def test_a_digest_checks_access_once_per_object_not_once_per_line(
    lines, shared_case, knp_coordinator, ccos, django_assert_max_num_queries
):
    [reader] = coordinators(ccos, 1)  # with an e-mail address
    for _ in range(lines):
        message = emit("case.shared", obj=shared_case, actor=knp_coordinator, agency=ccos.public_id)
        dispatch.deliver_message(str(message.pk))

    with django_assert_max_num_queries(QUERIES_PER_DIGEST):
        assert dispatch.send_email_digests() == 1

    [mail_sent] = mail.outbox
    assert mail_sent.to == [reader.email]
    assert mail_sent.body.count(shared_case.reference) == lines


def test_one_note_writes_one_row_per_recipient_for_in_app_and_email(
    shared_case, knp_coordinator, ccos
):
    """The notification is the in-app delivery and carries the e-mail line:
    no in-app or e-mail `Delivery` rows besides it."""
    users = coordinators(ccos, 4)  # two with an address
    message = note_message(shared_case, knp_coordinator)

    dispatch.deliver_message(str(message.pk))

    assert Notification.objects.filter(message=message).count() == len(users)
    assert not Delivery.objects.filter(message=message).exists()


def test_a_recipient_without_an_address_has_no_email_line(shared_case, knp_coordinator, ccos):
    with_address, without = coordinators(ccos, 2)
    message = note_message(shared_case, knp_coordinator)

    dispatch.deliver_message(str(message.pk))

    status = dict(
        Notification.objects.filter(message=message).values_list("recipient", "email_status")
    )
    assert status == {with_address.pk: DeliveryStatus.PENDING, without.pk: ""}


def test_a_message_fanned_out_again_is_one_line_in_the_digest(shared_case, knp_coordinator, ccos):
    coordinators(ccos, 1)  # with an address
    message = note_message(shared_case, knp_coordinator)
    dispatch.deliver_message(str(message.pk))
    message.refresh_from_db()
    dispatch.fan_out(message)  # a redelivery racing past the status check

    assert dispatch.send_email_digests() == 1
    [mail_sent] = mail.outbox
    assert mail_sent.body.count(shared_case.reference) == 1


def test_pending_email_deliveries_move_to_their_notifications(shared_case, knp_coordinator, ccos):
    """Migration 0002's data step: e-mail lines queued as `Delivery` rows by
    the earlier fan-out are sent from their notifications, once."""
    from importlib import import_module

    from django.apps import apps

    from notifications.choices import Channel

    migration = import_module("notifications.migrations.0002_notification_carries_in_app_and_email")
    [reader] = coordinators(ccos, 1)
    message = note_message(shared_case, knp_coordinator)
    dispatch.deliver_message(str(message.pk))
    notification = Notification.objects.get(message=message)
    Notification.objects.filter(pk=notification.pk).update(email_status="")  # as before 0002
    old = Delivery.objects.create(
        message=message,
        channel=Channel.EMAIL,
        recipient_key=Delivery.key_for(user=reader),
        user=reader,
    )

    migration.copy_email_status(apps, None)

    notification.refresh_from_db()
    old.refresh_from_db()
    assert notification.email_status == DeliveryStatus.PENDING
    assert old.status == DeliveryStatus.SKIPPED
    assert dispatch.send_email_digests() == 1


def test_a_one_at_a_time_gate_is_asked_about_users_when_the_audience_lists_members(
    shared_case, knp_coordinator, ccos, unodc
):
    """Audiences list light `Member`s; an object type without a set-based gate
    still gets `User`s for its per-user gate, and the same answer."""
    from notifications.audiences import Member, members
    from notifications.registry import ObjectType

    seeing = coordinators(ccos, 2)
    coordinators(unodc, 2)  # not a participant
    note = services.add_note(actor=knp_coordinator, case=shared_case, body="Wallets traced.")
    asked = []

    def one_at_a_time(user, obj):
        asked.append(user)
        return access.is_visible(user, obj)

    per_user = ObjectType(
        name="note", model=type(note), user_can_see=one_at_a_time, agency_can_see=None, api_path=""
    )
    candidates = members([ccos, unodc])
    assert all(isinstance(m, Member) for m in candidates)

    assert per_user.visible_user_ids(candidates, note) >= {u.pk for u in seeing}
    assert per_user.visible_user_ids(candidates, note) == access.users_who_see(candidates, note)
    assert asked and all(isinstance(u, type(knp_coordinator)) for u in asked)
