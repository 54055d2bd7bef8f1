"""The base every `/api/v1/` endpoint is built on.

The conventions, enforced here rather than repeated in each view:

* **Reads come from the gate.** A viewset names a selector of `cases.access`
  (`selector = "visible_cases"`), reached through `gate.port`; `get_queryset`
  is that selector applied to the requesting user, and nothing else filters
  by agency. Objects outside it are 404, never 403.
* **Public ids only.** Objects are looked up by `public_id` (a UUID) under the
  URL kwarg `id`, and payloads call it `id`; an integer primary key never
  appears in a URL or a payload. References to agencies use their code.
* **Writes call a service.** Input serializers validate shapes only; the
  viewset's `create_object` / `update_object` / `destroy_object` hooks call
  `cases.services` (or another app's services), which check permissions
  through the gate and raise `gate.errors`, mapped to HTTP in
  `config.api.problems.exception_handler`.
* **Optimistic concurrency.** Every object response carries an `ETag` (the
  object's `version`, or a hash of the body for unversioned objects). Every
  write to an existing object (PUT, PATCH, DELETE, and POST actions on one,
  such as transitions) requires `If-Match` (428 without it, before anything
  is read into the service), which passes `expected_version` to the service;
  the service re-checks it under a row lock: a stale copy gets 412 and
  changes nothing. Actions that change no state a client could overwrite
  (a read with a body, marking read) are listed in `if_match_exempt`.
* **Strict query strings.** A query parameter the action does not take, or
  one given empty, is a 400 naming it (`check_query_params`): a misspelt
  filter must not silently widen a partner's result.
* **Idempotent POST.** `Idempotency-Key` is handled for every POST by
  `config.api.idempotency` (hooks below).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import orjson
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import SuffixedMultiWidget
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from agencies.actors import AuthenticatedRequest
from gate import port

from . import idempotency
from .permissions import IsAgencyMember
from .problems import PreconditionFailedError, PreconditionRequiredError

#: The model a viewset serves.
_M = TypeVar("_M", bound=Model)
_T = TypeVar("_T", bound=Model)

#: Accepted by every endpoint: DRF's format override (`?format=json`).
COMMON_QUERY_PARAMS = frozenset({"format"})
#: The methods that always write to the object they address.
OBJECT_WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


def etag_of(obj: Any, data: Any = None) -> str:
    """Strong ETag: the object's version, or a hash of its representation."""
    version = getattr(obj, "version", None)
    if version is not None:
        return f'"{version}"'
    # orjson: a case's picture is thousands of nodes, and json.dumps took 13 ms.
    encoded = orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    digest = hashlib.sha256(encoded, usedforsecurity=False).hexdigest()
    return f'"{digest[:32]}"'


def _parse_etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


@functools.cache
def filter_param_names(filterset_class: Any) -> frozenset[str]:
    """The query parameters a FilterSet reads: its filters' names, with the
    suffixes of range widgets (`…_after`, `…_min`)."""
    names: set[str] = set()
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.field.widget
        if isinstance(widget, SuffixedMultiWidget):
            names.update(f"{name}_{suffix}" if suffix else name for suffix in widget.suffixes)
        else:
            names.add(name)
    return frozenset(names)


def check_query_params(request: Request, accepted: Iterable[str]) -> None:
    """400 naming every query parameter that is unknown here or given empty."""
    accepted = set(accepted)
    errors: dict[str, list[ErrorDetail]] = {}
    for name, values in request.query_params.lists():
        if name not in accepted:
            errors[name] = [ErrorDetail(str(_("Unknown query parameter.")), code="unknown")]
        elif any(value == "" for value in values):
            errors[name] = [ErrorDetail(str(_("This parameter may not be empty.")), code="blank")]
    if errors:
        raise exceptions.ValidationError(errors)


if TYPE_CHECKING:
    _View = APIView
else:
    _View = object


class StrictQueryMixin(_View):
    """`initial()` refuses query parameters the action does not take (see
    `check_query_params`); `accepted_query_params` says which it takes."""

    def accepted_query_params(self) -> set[str]:
        return set(COMMON_QUERY_PARAMS)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_query_params(request, self.accepted_query_params())


class GatedViewSet(StrictQueryMixin, GenericViewSet[_M]):
    """Base viewset: queryset from a gate selector, lookup by public id, ETags,
    If-Match required on writes, strict query strings, idempotent POST.
    Combine with the mixins below for the actions you need."""

    #: Name of a selector in `cases.access` (e.g. "visible_cases").
    selector: str = ""
    #: The selector of the `list` action, if it reads a page in another shape
    #: (the same rows as `selector`, narrowed for the indexes).
    list_selector: str = ""
    #: Relations to fetch with the rows (select_related).
    related: tuple[str, ...] = ()
    #: For nested routes (`cases/{case_id}/participants/`): the parent's selector,
    #: its URL kwarg and the field linking children to it.
    parent_selector: str = ""
    parent_url_kwarg: str = ""
    parent_field: str = ""
    #: Field the sync order and cursor pagination use (ascending by default), and
    #: other orderings offered; all must be non-null (keyset pagination).
    sync_field: str = "updated_at"
    extra_ordering_fields: tuple[str, ...] = ()
    #: Input serializers per action; `serializer_class` is the output.
    input_serializers: dict[str, type[BaseSerializer]] = {}
    #: POST actions on one object that need no `If-Match`: they change nothing
    #: a client could overwrite (a read with a body, an idempotent mark).
    if_match_exempt: frozenset[str] = frozenset()
    #: Actions other than `list` that read the FilterSet's parameters.
    filtered_actions: tuple[str, ...] = ()
    #: Further query parameters per action (e.g. `{"download": ("purpose",)}`).
    action_query_params: dict[str, tuple[str, ...]] = {}

    #: `IsAgencyMember` has let the request in: its user is an `Actor`.
    request: AuthenticatedRequest

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    permission_classes = [IsAgencyMember]

    # --- reads ------------------------------------------------------------

    def get_selected(self, name: str) -> QuerySet[Any]:
        return port.selector(name)(self.request.user)

    def get_parent(self) -> Any:
        """The object of a nested route's parent URL kwarg (its model is the
        subclass's: a case, for the case's lists)."""
        if not hasattr(self, "_parent"):
            self._parent = self._get_by_public_id(
                self.get_selected(self.parent_selector), self.kwargs.get(self.parent_url_kwarg)
            )
        return self._parent

    def get_queryset(self) -> QuerySet[_M]:
        if not self.selector:
            raise NotImplementedError(f"{type(self).__name__}.selector is not set")
        name = self.list_selector if self.action == "list" and self.list_selector else ""
        queryset = self.get_selected(name or self.selector)
        if self.parent_selector and not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(**{self.parent_field: self.get_parent()})
        if self.related:
            queryset = queryset.select_related(*self.related)
        return queryset

    @staticmethod
    def _get_by_public_id(queryset: QuerySet[_T], value: Any) -> _T:
        try:
            public_id = uuid.UUID(str(value))
        except ValueError:
            raise exceptions.NotFound() from None
        # public_id is unique: one row at most, no ORDER BY needed (`.first()`'s).
        obj = next(iter(queryset.filter(public_id=public_id).order_by()[:1]), None)
        if obj is None:
            raise exceptions.NotFound()
        return obj

    def lookup_object(self, queryset: QuerySet[_M], value: Any) -> _M:
        """The object the URL names (by public id; agencies override: by code)."""
        return self._get_by_public_id(queryset, value)

    def get_object(self) -> _M:
        # List filters do not apply here: a filter must not turn a hit into 404.
        obj = self.lookup_object(self.get_queryset(), self.kwargs.get(self.lookup_url_kwarg))
        self.check_object_permissions(self.request, obj)
        # After the lookup: an object you may not see is 404 whatever you send.
        if self.if_match_required(self.request.method) and "If-Match" not in self.request.headers:
            raise PreconditionRequiredError()
        return obj

    # --- conditional requests and query strings -------------------------------

    def if_match_required(self, method: str) -> bool:
        """Whether `method` on this action writes to an existing object, and so
        needs `If-Match` (the schema documents the same rule)."""
        if method in OBJECT_WRITE_METHODS:
            return True
        return method == "POST" and bool(self.detail) and self.action not in self.if_match_exempt

    def accepted_query_params(self) -> set[str]:
        names = super().accepted_query_params()
        if self.action == "list" and self.paginator is not None:
            names.update(p["name"] for p in self.paginator.get_schema_operation_parameters(self))
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and (
            self.action == "list" or self.action in self.filtered_actions
        ):
            names |= filter_param_names(filterset_class)
        names.update(self.action_query_params.get(self.action, ()))
        return names

    # --- serializers -------------------------------------------------------

    def get_input_serializer_class(self, action: str | None = None) -> type[BaseSerializer]:
        action = action or self.action
        if action == "partial_update" and "partial_update" not in self.input_serializers:
            action = "update"
        return self.input_serializers[action]

    def validate_input(self, data: Any, *, partial: bool = False, action: str | None = None):
        serializer = self.get_input_serializer_class(action)(
            data=data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- responses and preconditions ----------------------------------------

    def object_response(
        self, obj: Any, *, status_code: int = status.HTTP_200_OK, created: bool = False
    ) -> Response:
        data = self.get_serializer(obj).data
        headers = {"ETag": etag_of(obj, data)}
        if created:
            namespace = self.request.resolver_match.namespace
            headers["Location"] = reverse(
                f"{namespace}:{self.basename}-detail" if namespace else f"{self.basename}-detail",
                kwargs={**self._parent_kwargs(), self.lookup_url_kwarg: str(obj.public_id)},
                request=self.request,
            )
        return Response(data, status=status_code, headers=headers)

    def _parent_kwargs(self) -> dict[str, Any]:
        if self.parent_url_kwarg:
            return {self.parent_url_kwarg: self.kwargs[self.parent_url_kwarg]}
        return {}

    def expected_version(self, obj: Model) -> int | None:
        """The version the client's `If-Match` names, for the service to re-check
        under lock; None without `If-Match` (or with `*`). A non-matching
        `If-Match` is refused at once, before any write."""
        header = self.request.headers.get("If-Match")
        if header is None:
            return None
        tags = _parse_etags(header)
        if "*" in tags:
            return None
        if etag_of(obj) not in tags:
            raise PreconditionFailedError()
        return getattr(obj, "version", None)

    # --- idempotency hooks (every POST) --------------------------------------

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if idempotency.applies(request):
            # The key's row, the write and the stored response commit together.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.idempotency_record = idempotency.begin(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "idempotency_record", None)
        if record is not None:
            idempotency.finish(record, response)
            self.idempotency_record = None
        return response


# The mixins are written against the viewset they are combined with.
if TYPE_CHECKING:
    _Gated = GatedViewSet
else:
    _Gated = Generic


class ListMixin(_Gated[_M]):
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RetrieveMixin(_Gated[_M]):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.object_response(self.get_object())


class CreateMixin(_Gated[_M]):
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.create_object(self.validate_input(request.data))
        return self.object_response(obj, status_code=status.HTTP_201_CREATED, created=True)

    def create_object(self, data: dict[str, Any]) -> _M:
        raise NotImplementedError


class UpdateMixin(_Gated[_M]):
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        obj = self.get_object()
        expected = self.expected_version(obj)
        data = self.validate_input(request.data, partial=partial)
        obj = self.update_object(obj, data, expected_version=expected)
        return self.object_response(obj)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def update_object(self, obj: _M, data: dict[str, Any], *, expected_version: int | None) -> _M:
        raise NotImplementedError


class DestroyMixin(_Gated[_M]):
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        self.destroy_object(obj, expected_version=self.expected_version(obj))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def destroy_object(self, obj: _M, *, expected_version: int | None) -> None:
        raise NotImplementedError
