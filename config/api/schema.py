"""OpenAPI generation: the conventions of `base.py` documented on every operation.

Every operation gets its error responses (RFC 9457 problem details, see
`problems.py`), `If-Match` (required, 428 without it) on writes to an
existing object by the same rule the views apply
(`GatedViewSet.if_match_required`), `If-None-Match` and 304 on reads,
`Idempotency-Key` on POST, and `ETag`/`Location`/`Retry-After` response
headers, without each view repeating `extend_schema`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from .problems import PROBLEM_CONTENT_TYPE, ProblemSerializer

ERROR_DESCRIPTIONS: dict[str, Any] = {
    "400": _(
        "Invalid input: `errors` lists each field's problems, and each unknown or empty "
        "query parameter."
    ),
    "401": _("Missing, invalid, expired or revoked credentials."),
    "403": _("Visible, but your role or your agency's access level does not allow this."),
    "404": _(
        "Does not exist, or is not visible to your agency (never 403: existence is information)."
    ),
    "409": _("The object's state does not allow the change (e.g. an illegal transition)."),
    "412": _("`If-Match` names a stale version: reload the object; nothing was changed."),
    "413": _("The request or the file is larger than this server accepts."),
    "415": _("Send `Content-Type: application/json`."),
    "428": _(
        "`If-Match` is missing: send the `ETag` of your copy (`errors` names the header); "
        "nothing was changed."
    ),
    "422": _("This `Idempotency-Key` was already used with a different request."),
    "429": _("Throttled: retry after `Retry-After` seconds."),
    "500": _("Unexpected server error (logged)."),
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "agencies.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "An agency API client's token (`python manage.py issue_api_token`): "
                    "`Authorization: Bearer cb_…`."
                )
            ),
        }


class CasebridgeAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_detail(self) -> bool:
        lookup = getattr(self.view, "lookup_url_kwarg", None)
        return bool(lookup) and "{" + lookup + "}" in self.path

    def _is_nested(self) -> bool:
        kwarg = getattr(self.view, "parent_url_kwarg", "")
        return bool(kwarg) and "{" + kwarg + "}" in self.path

    def _if_match_required(self) -> bool:
        rule = getattr(self.view, "if_match_required", None)
        return bool(rule and rule(self.method))

    def _is_json_read(self) -> bool:
        """A GET answered with JSON: it carries an ETag and may answer 304
        (`config.api.middleware`); downloads and exports do not."""
        if self.method != "GET":
            return False
        responses = self.get_response_serializers()
        if isinstance(responses, dict):
            for key in responses:
                if isinstance(key, tuple) and str(key[0]) == "200":
                    return key[1] == "application/json"
        return True

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        """Object ids in paths are public UUIDs (the URL pattern itself is loose so
        that a malformed id is an ordinary 404 problem, not a routing miss);
        agencies are addressed by code."""
        uuid_kwargs = {getattr(self.view, "parent_url_kwarg", None)} - {None, ""}
        if getattr(self.view, "lookup_field", None) == "public_id":
            uuid_kwargs.add(getattr(self.view, "lookup_url_kwarg", None))
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] in uuid_kwargs:
                parameter["schema"] = {"type": "string", "format": "uuid"}
        return parameters

    # --- query parameters ----------------------------------------------------

    def _accepted(self, parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only what the view takes (`StrictQueryMixin.accepted_query_params`):
        a POST answering with a list is not a filtered, paginated read."""
        accepted = getattr(self.view, "accepted_query_params", None)
        if accepted is None:
            return parameters
        names = accepted()
        return [p for p in parameters if p["name"] in names]

    def get_filter_backends(self) -> list[Any]:
        action = self._action()
        if action != "list" and action not in getattr(self.view, "filtered_actions", ()):
            return []
        # Not only for "list views": an export reads the filters too.
        return getattr(self.view, "filter_backends", [])

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        return self._accepted(super()._get_filter_parameters())

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        return self._accepted(super()._get_pagination_parameters())

    # --- bodies -------------------------------------------------------------

    def get_request_serializer(self) -> Any:
        view = self.view
        inputs = getattr(view, "input_serializers", None)
        action = self._action()
        if inputs and action:
            key = action
            if key == "partial_update" and key not in inputs:
                key = "update"
            if key in inputs:
                return inputs[key]
        return super().get_request_serializer()

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        problem_ref = self.resolve_serializer(ProblemSerializer, "response").ref
        if self._is_json_read() and "304" not in responses:
            responses["304"] = {
                "description": str(
                    _("Not modified: the `ETag` you sent in `If-None-Match` is current.")
                ),
                "headers": self._get_response_headers_for_code("304", direction),
            }
        for code in self._error_codes():
            if code in responses:
                continue
            responses[code] = {
                "description": str(ERROR_DESCRIPTIONS[code]),
                "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
                **(
                    {"headers": self._get_response_headers_for_code(code, direction)}
                    if code in ("401", "429")
                    else {}
                ),
            }
        return responses

    def _error_codes(self) -> list[str]:
        method = self.method
        # 400 everywhere: a write's body, and every operation's query string
        # (an unknown or empty parameter).
        codes = ["400", "401", "403"]
        if self._is_detail() or self._is_nested():
            codes.append("404")
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self._if_match_required():
            codes += ["412", "428"]
        if method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if method == "POST":
            codes.append("422")
        codes += getattr(self.view, "extra_error_codes", {}).get(
            getattr(self.view, "action", None), []
        )
        codes += ["429", "500"]
        return sorted(set(codes))

    # --- headers ------------------------------------------------------------

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        method = self.method
        if self._if_match_required():
            params.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    description=str(
                        _(
                            'The `ETag` of your copy (e.g. `"3"`): refused with 412 if the '
                            "object changed since, with 428 if missing; `*` overwrites "
                            "whatever version is current."
                        )
                    ),
                )
            )
        if self._is_json_read():
            params.append(
                OpenApiParameter(
                    "If-None-Match",
                    str,
                    OpenApiParameter.HEADER,
                    description=str(
                        _("The `ETag` of your copy: answered 304 (no body) if it is current.")
                    ),
                )
            )
        if method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description=str(
                        _(
                            "A unique key per logical request (e.g. a UUID). A retry with the "
                            "same key and body replays the first response; the same key with "
                            "another body is 422. Kept 24 hours."
                        )
                    ),
                )
            )
        return params

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response"):
        headers = dict(super()._get_response_headers_for_code(status_code, direction))
        string = {"type": "string"}
        # A list read, or a write answering with a list (a bulk share): no
        # single object's version or address to give.
        is_object = not self._is_list_view()
        if status_code in ("200", "201") and is_object:
            # A view may say more of an action's tag (`etag_descriptions`: the
            # expanded case's is not the case's version).
            described = getattr(self.view, "etag_descriptions", {}).get(self._action())
            headers["ETag"] = {
                "schema": string,
                "description": str(
                    described or _("Version of the object; send it back in `If-Match`.")
                ),
            }
        elif status_code in ("200", "304") and self._is_json_read():
            headers["ETag"] = {
                "schema": string,
                "description": str(_("Version of this answer; send it in `If-None-Match`.")),
            }
        if status_code == "201" and is_object:
            headers["Location"] = {"schema": string, "description": str(_("The new object."))}
        if status_code == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}}
        if status_code == "401":
            headers["WWW-Authenticate"] = {"schema": string}
        if status_code[0] == "2" and self.method == "POST":
            headers["Idempotent-Replayed"] = {
                "schema": {"type": "string", "enum": ["true"]},
                "description": str(_("Present when this is a replayed response.")),
            }
        return headers
