import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from ..choices import TaskPriority, TaskStatus
from .case import Case


class Task(models.Model):
    """A joint-investigation task on a case, owned by one participating agency."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("case")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assigned_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("assigned agency")
    )
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_tasks",
        null=True,
        blank=True,
        verbose_name=_("assigned user"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.TODO
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("updated at")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assigned_agency", "status", "due_date"]),
            # The task list filtered by assigned agency, read in the sync order.
            models.Index(
                fields=["assigned_agency", "updated_at", "public_id"], name="task_assigned_order"
            ),
            # The task list's `ordering=created_at`: walked in that order rather
            # than every visible task sorted (715 ms → 2 ms at 1M).
            models.Index(fields=["created_at", "public_id"], name="task_created_public"),
            # The task list in its sync order filtered by due date: the date
            # is tested in the index entry, so a walk past tasks due earlier
            # (old tasks, first in the sync order) reads no task row for them.
            models.Index(fields=["updated_at", "public_id", "due_date"], name="task_sync_due"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskLogEntry(models.Model):
    """One line of a task's progress log: who did what, when. Append-only.

    `case` repeats the task's case so that the gate reads an entry like any
    other case child (its author agency disclosed or not, `access._disclosed`).
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="log_entries", verbose_name=_("task")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("logged by"),
    )
    body = models.TextField(_("progress"), max_length=4000)
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("task log entry")
        verbose_name_plural = _("task log entries")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.body[:40]}"
