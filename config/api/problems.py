"""One error shape for every 4xx/5xx: RFC 9457 problem details.

Why RFC 9457 rather than drf-standardized-errors: partner systems are written
in Java, .NET, Go and Python; Spring (`ProblemDetail`), ASP.NET Core
(`ProblemDetails`) and most HTTP client libraries parse
`application/problem+json` natively, whereas drf-standardized-errors' shape is
specific to one Python library. The standard leaves room for extension
members, which carry what clients need to act: a stable machine-readable
`code` and, for validation, `errors` with one entry per field.

Every exception reaching a view goes through `exception_handler` below: DRF's
own exceptions, Django's `Http404`/`PermissionDenied`, the domain errors of
`gate.errors` (raised by the services and the gate) and anything unexpected
(a 500 that says nothing about its cause; the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from audit.services import record_refusal
from gate.errors import DomainError, ValidationFailed

from .parsers import RequestTooLarge

logger = logging.getLogger("casebridge.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:casebridge:problem:"

# Titles per status: stable, short, translated (RFC 9457 §3.1.3: the title
# does not change from occurrence to occurrence of the same type).
TITLES: dict[int, Any] = {
    400: _("Invalid request"),
    401: _("Authentication required"),
    403: _("Permission denied"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Unprocessable request"),
    423: _("Locked"),
    428: _("Precondition required"),
    429: _("Too many requests"),
    460: _("Checksum mismatch"),
    500: _("Server error"),
}


class PreconditionFailedError(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = _("The object was changed by someone else; reload it and try again.")


class PreconditionRequiredError(exceptions.APIException):
    """A write to an existing object without `If-Match` (RFC 6585 §3): a client
    that does not say which version it edits would silently overwrite others'."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = _(
        "Send the object's ETag in the If-Match header (`*` to overwrite any version)."
    )
    #: The problem's `errors`: the header is what is missing.
    problem_errors = [
        {
            "field": "If-Match",
            "code": "required",
            "detail": _("This header is required on this request."),
        }
    ]


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = _("The object's current state does not allow this change.")


class UnprocessableError(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = _("The request cannot be processed.")


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error structure as a flat list of {field, code, detail}.

    Nested fields are dotted (`crime_types.0`); errors not tied to a field
    have `field` null.
    """
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            out += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out += _flatten(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                out += _flatten(value, prefix)
    else:
        code = getattr(detail, "code", None) or "invalid"
        out.append({"field": prefix or None, "code": str(code), "detail": str(detail)})
    return out


def problem(
    *,
    status_code: int,
    code: str,
    detail: Any,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def field_errors(errors: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """A domain error dict (`ValidationFailed.errors`) as the problem's `errors`
    list; also the shape of per-item errors inside a 200 (deconfliction)."""
    return [
        {"field": None if f == "non_field_errors" else f, "code": "invalid", "detail": str(m)}
        for f, messages in errors.items()
        for m in messages
    ]


def _from_domain(exc: DomainError) -> tuple[int, str, str, list | None]:
    if isinstance(exc, ValidationFailed):
        return 400, "invalid", str(_("The request is invalid.")), field_errors(exc.errors)
    errors = None
    if exc.status_code == 400 or exc.field:
        errors = [{"field": exc.field, "code": exc.code, "detail": str(exc.message)}]
    return exc.status_code, exc.code, str(exc.message), errors


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error becomes a problem document."""
    request = context.get("request")
    instance = request.path if request is not None else None
    headers: dict[str, str] = {}

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own limit, raised when DRF reads `request.body`.
        exc = RequestTooLarge()

    if isinstance(exc, DomainError):
        status_code, code, detail, errors = _from_domain(exc)
    elif isinstance(exc, exceptions.ValidationError):
        status_code, code = exc.status_code, "invalid"
        detail = str(_("The request is invalid."))
        errors = _flatten(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        errors = [
            {**error, "detail": str(error["detail"])}
            for error in getattr(exc, "problem_errors", None) or ()
        ] or None
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        logger.exception("Unhandled error in %s", instance)
        status_code, code, errors = 500, "server_error", None
        detail = str(_("An unexpected error occurred; it has been logged."))

    if status_code in (403, 404):
        _record_refusal(request, code, instance)
    body = problem(status_code=status_code, code=code, detail=detail, errors=errors)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _record_refusal(request, code: str, path: str | None) -> None:
    """A refused request goes on the audit record (the service's own transaction
    rolled back, so the refusal is written here, once)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    record_refusal(actor=user, object_type="api", object_id=(path or "")[:64], reason=code)


def problem_response(
    *, status_code: int, code: str, detail: Any, errors: list[dict[str, Any]] | None = None
) -> JsonResponse:
    """A problem document outside DRF (middleware, the catch-all below)."""
    return JsonResponse(
        problem(status_code=status_code, code=code, detail=detail, errors=errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


@csrf_exempt  # answers the same whatever the method; nothing to protect
def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all for unknown `/api/` paths, so even they answer in the one error shape."""
    return problem_response(status_code=404, code="not_found", detail=_("Not found."))


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text=_("The input field, dotted for nested ones; null: the whole.")
    )
    code = serializers.CharField(help_text=_("Machine-readable error code."))
    detail = serializers.CharField(help_text=_("Human-readable message, translated."))


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as returned for every 4xx and 5xx."""

    type = serializers.CharField(help_text=_("`urn:casebridge:problem:<code>`."))
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text=_(
            "Stable machine-readable code: invalid, not_found, permission_denied, "
            "not_authenticated, authentication_failed, conflict, precondition_failed, "
            "precondition_required, two_factor_required, idempotency_key_reused, "
            "idempotency_key_in_progress, throttled, …"
        )
    )
    errors = FieldErrorSerializer(
        many=True,
        required=False,
        help_text=_(
            "What was wrong, one entry per input field, query parameter or header "
            "(400; 428 names `If-Match`)."
        ),
    )
