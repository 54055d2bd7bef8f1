"""Domain errors raised by services and the gate.

Each carries the HTTP status it maps to, so the API's exception handler and
the admin translate them in one place, and field errors keep their field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A user-facing message: plain, or translated lazily (gettext_lazy returns a
# Promise, rendered in the language active when it is shown).
Message: TypeAlias = str | Promise
# Field errors as services raise them; `ValidationFailed.errors` renders them.
FieldErrors: TypeAlias = Mapping[str, Sequence[Message]]


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self, message: Message | None = None, *, field: str | None = None, code: str | None = None
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.code = code or self.default_code
        super().__init__(str(self.message))

    default_message: Message = _("The request is invalid.")

    @property
    def errors(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [str(self.message)]}


class ValidationFailed(DomainError):
    """Bad input: one or more fields are wrong."""

    def __init__(self, errors: FieldErrors | Message, *, field: str | None = None) -> None:
        # A bare message, plain or lazily translated (gettext_lazy returns a
        # Promise, not a str), belongs to `field` or to the whole input.
        if isinstance(errors, (str, Promise)):
            errors = {field or "non_field_errors": [errors]}
        self._errors = {k: [str(m) for m in v] for k, v in errors.items()}
        first_field, messages = next(iter(self._errors.items()))
        super().__init__(messages[0], field=first_field)

    @property
    def errors(self) -> dict[str, list[str]]:
        return self._errors

    @classmethod
    def from_django(cls, exc: DjangoValidationError) -> ValidationFailed:
        if hasattr(exc, "error_dict"):
            return cls({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
        return cls({"non_field_errors": exc.messages})


class NotFound(DomainError):
    """Not visible to this user: indistinguishable from not existing."""

    status_code = 404
    default_code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    """Visible, but this user's role or agency level does not allow the action."""

    status_code = 403
    default_code = "permission_denied"
    default_message = _("You do not have permission to perform this action.")


class Conflict(DomainError):
    """The object's current state does not allow the change."""

    status_code = 409
    default_code = "conflict"
    default_message = _("The object's current state does not allow this change.")


class PreconditionFailed(DomainError):
    """The client's copy is stale (optimistic concurrency)."""

    status_code = 412
    default_code = "precondition_failed"
    default_message = _("The object was changed by someone else; reload it and try again.")
