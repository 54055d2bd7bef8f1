"""Enumerations of the delivery machinery, with translatable labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """Every event the outbox knows.

    Names are `<object>.<verb>` and are part of the webhook contract: partner
    systems subscribe to them, so a name is never changed, only added.
    """

    CASE_SHARED = "case.shared", _("Case shared with your agency")
    CASE_REVOKED = "case.revoked", _("Agency access to a case ended")
    # To the agency that lost access (revoked, expired, handed away): the
    # object is its tombstone (`cases.CaseTombstone`), the case's id and a time.
    CASE_ACCESS_REVOKED = "case.access_revoked", _("Your agency's access to a case ended")
    CASE_STATUS_CHANGED = "case.status_changed", _("Case status changed")
    PARTICIPATION_EXPIRING = "participation.expiring", _("Case access expiring")
    TASK_ASSIGNED = "task.assigned", _("Task assigned")
    TASK_STATUS_CHANGED = "task.status_changed", _("Task status changed")
    TASK_DUE_SOON = "task.due_soon", _("Task due soon")
    TASK_OVERDUE = "task.overdue", _("Task overdue")
    NOTE_ADDED = "note.added", _("Note added")
    # Built by the MLA, document and deconfliction work: their apps register
    # the object type and the audience (notifications.registry).
    MLA_SUBMITTED = "mla.submitted", _("MLA request received")
    MLA_TRANSITIONED = "mla.transitioned", _("MLA request status changed")
    MLA_DUE_SOON = "mla.due_soon", _("MLA response due soon")
    MLA_OVERDUE = "mla.overdue", _("MLA response overdue")
    DOCUMENT_ADDED = "document.added", _("Document added")
    DECONFLICTION_HIT = "deconfliction.hit", _("Deconfliction match")
    DECONFLICTION_CONTACT_REQUESTED = (
        "deconfliction.contact_requested",
        _("Contact requested about a deconfliction match"),
    )
    # Share proposals (issue 18): to the lead agency, and back to the proposer.
    SHARE_PROPOSAL_CREATED = "share_proposal.created", _("Share proposed")
    SHARE_PROPOSAL_DECIDED = "share_proposal.decided", _("Share proposal decided")
    # Networks and money (issue 20): what was frozen, seized, confiscated, returned.
    ASSET_RECORDED = "asset.recorded", _("Asset recorded")
    ASSET_STATE_CHANGED = "asset.state_changed", _("Asset state changed")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # written, not yet handed to the broker
    PUBLISHED = "published", _("Published")  # handed to the broker
    DELIVERED = "delivered", _("Delivered")  # fanned out to every channel
    DEAD = "dead", _("Dead letter")  # gave up after the bounded number of attempts
    DISMISSED = "dismissed", _("Dismissed")  # a dead letter an operator gave up on


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")  # recipient lost access or has no address
    DEAD = "dead", _("Dead letter")
