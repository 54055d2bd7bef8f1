"""Writes on agencies and memberships.

An agency and its Group are created together so that no agency can exist
without the group its grants go to. A member is put in their agency's Group
too, so guardian's own helpers agree with `cases.access`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from audit.models import AuditAction
from gate import port
from gate.errors import NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role
from security.services import end_agency_access, end_user_access

from .models import Agency, Membership

User = get_user_model()
AGENCY_AUDIT_FIELDS = (
    "code",
    "name",
    "country",
    "kind",
    "timezone",
    "active",
    "contributes_statistics",
)


def _record_new_member(membership: Membership, **kwargs) -> None:
    """One event per new member, whichever service made them (`actor`, when
    not given, is the request's user). It goes on the new member's agency's
    trail, even when a platform superuser (of no agency) made them."""
    extra = kwargs.pop("changes", {})
    audit.record(
        action=AuditAction.CREATE,
        obj=membership,
        agency=membership.agency,
        changes={
            "user": membership.user.get_username(),
            "agency": membership.agency.code,
            "role": membership.role,
            **extra,
        },
        **kwargs,
    )


@transaction.atomic
def create_agency(
    *, code: str, name: str, country: str, kind: str, timezone: str = "UTC"
) -> Agency:
    agency = Agency(code=code, name=name, country=country, kind=kind, timezone=timezone)
    try:
        agency.full_clean(exclude=["group"])
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc
    group_name = f"agency:{code}"
    # Never adopt a Group that already exists: its members would receive
    # every grant made to the new agency.
    if Group.objects.filter(name=group_name).exists():
        raise ValidationFailed({"code": [_("A group for this agency code already exists.")]})
    agency.group = Group.objects.create(name=group_name)
    agency.save()
    audit.record(
        action=AuditAction.CREATE,
        obj=agency,
        agency=agency,
        changes=audit.created(agency, AGENCY_AUDIT_FIELDS),
    )
    return agency


@transaction.atomic
def add_member(*, user, agency: Agency, role: str) -> Membership:
    membership = _add_member(user=user, agency=agency, role=role)
    _record_new_member(membership)
    return membership


def _add_member(*, user, agency: Agency, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationFailed({"role": [_("Unknown role.")]})
    if Membership.objects.filter(user=user).exists():
        raise ValidationFailed({"user": [_("This user already belongs to an agency.")]})
    membership = Membership.objects.create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return membership


@transaction.atomic
def create_member(
    *,
    username: str,
    agency: Agency,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    membership = _create_member(
        username=username,
        agency=agency,
        role=role,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    _record_new_member(membership)
    return membership


def _create_member(
    *,
    username: str,
    agency: Agency,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    if User.objects.filter(username=username).exists():
        raise ValidationFailed({"username": [_("This username is taken.")]})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return _add_member(user=user, agency=agency, role=role)


def _require_agency_admin(actor, membership: Membership) -> None:
    """Another agency's staff list is invisible (`visible_memberships`), so a
    member of another agency is NotFound, as any invisible object is; within
    the agency, only its administrators may act (PermissionDenied)."""
    visible = port.selector("visible_memberships")(actor)
    if membership.pk is None or not visible.filter(pk=membership.pk).exists():
        raise NotFound()
    mine = port.membership_of(actor)
    if mine is None or mine.role != Role.AGENCY_ADMIN or mine.agency_id != membership.agency_id:
        raise PermissionDenied(_("Only your agency's administrators can manage its members."))


@transaction.atomic
def change_role(*, actor, membership: Membership, role: str) -> Membership:
    _require_agency_admin(actor, membership)
    if role not in Role.values:
        raise ValidationFailed({"role": [_("Unknown role.")]})
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        action=AuditAction.UPDATE,
        obj=membership,
        actor=actor,
        changes={"role": {"before": old_role, "after": role}},
    )
    return membership


@transaction.atomic
def deactivate_member(*, actor, membership: Membership) -> Membership:
    _require_agency_admin(actor, membership)
    if membership.user_id == actor.pk:
        raise ValidationFailed(_("You cannot deactivate yourself."))
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    end_user_access(user=membership.user)
    audit.record(
        action=AuditAction.UPDATE,
        obj=membership,
        actor=actor,
        changes={"is_active": {"before": True, "after": False}},
    )
    return membership


def _may_invite(actor, agency: Agency) -> bool:
    if actor.is_active and actor.is_superuser:
        return True
    mine = port.membership_of(actor)
    return mine is not None and mine.role == Role.AGENCY_ADMIN and mine.agency_id == agency.pk


@transaction.atomic
def invite_member(
    *,
    actor,
    agency: Agency,
    username: str,
    role: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> Membership:
    """A new person in `agency`, by its administrator or the platform superuser.

    The initial password is handed over out of band; the person changes it
    on the admin's "change password" page.
    """
    if not _may_invite(actor, agency):
        raise PermissionDenied(_("Only your agency's administrators can manage its members."))
    if not password:
        raise ValidationFailed({"password": [_("Give an initial password.")]})
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed({"language": [_("Unknown language.")]})
    membership = _create_member(
        username=username,
        agency=agency,
        role=role,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    if language:
        membership.language = language
        membership.save(update_fields=["language"])
    _record_new_member(membership, actor=actor, changes={"language": language})
    return membership


@transaction.atomic
def set_language(*, actor, language: str) -> Membership:
    """The actor's own interface language ("" = the browser's)."""
    membership = port.membership_of(actor)
    if membership is None:
        raise PermissionDenied(_("You are not a member of an active agency."))
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed({"language": [_("Unknown language.")]})
    old_language = membership.language
    Membership.objects.filter(pk=membership.pk).update(language=language)
    membership.language = language
    audit.record(
        action=AuditAction.UPDATE,
        obj=membership,
        actor=actor,
        changes={"language": {"before": old_language, "after": language}},
    )
    return membership


@transaction.atomic
def update_agency(*, agency: Agency, **changes) -> Agency:
    """Platform administration: rename, move time zone, (de)activate an agency."""
    allowed = {"name", "country", "kind", "timezone", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed({f: [_("This field cannot be changed here.")] for f in unknown})
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = audit.snapshot(agency, AGENCY_AUDIT_FIELDS)
    for field, value in changes.items():
        setattr(agency, field, value)
    try:
        agency.full_clean(exclude=["group"])
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc
    agency.save()
    audit.record(
        action=AuditAction.UPDATE,
        obj=agency,
        agency=agency,
        changes=audit.changes_between(before, audit.snapshot(agency, AGENCY_AUDIT_FIELDS)),
    )
    return agency


@transaction.atomic
def deactivate_agency(*, actor, agency: Agency) -> Agency:
    """Switch an agency off: its members see nothing, and every session and
    API token of its members ends now, not at their next expiry."""
    if actor is None or not actor.is_active or not actor.is_superuser:
        raise PermissionDenied(_("Only platform administrators can deactivate an agency."))
    agency.active = False
    agency.save(update_fields=["active", "updated_at"])
    end_agency_access(agency=agency)
    audit.record(
        action=AuditAction.UPDATE,
        obj=agency,
        actor=actor,
        agency=agency,
        changes={"active": {"before": True, "after": False}},
    )
    return agency


def may_set_statistics_contribution(actor, agency: Agency) -> bool:
    """The platform administrator, or an administrator of `agency` itself:
    consenting to pool an agency's figures is the agency's decision."""
    if actor is None or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    mine = port.membership_of(actor)
    return mine is not None and mine.role == Role.AGENCY_ADMIN and mine.agency_id == agency.pk


@transaction.atomic
def set_statistics_contribution(*, actor, agency: Agency, contributes: bool) -> Agency:
    """Whether `agency`'s data counts in the statistics pooled across agencies
    (`cases.statistics`), audited like every change to an agency."""
    if not may_set_statistics_contribution(actor, agency):
        raise PermissionDenied(
            _("Only the platform administrator or the agency's administrators can change this.")
        )
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = agency.contributes_statistics
    if before == contributes:
        return agency
    agency.contributes_statistics = contributes
    agency.save(update_fields=["contributes_statistics", "updated_at"])
    audit.record(
        action=AuditAction.UPDATE,
        obj=agency,
        actor=actor,
        agency=agency,
        changes={"contributes_statistics": {"before": before, "after": contributes}},
    )
    return agency
