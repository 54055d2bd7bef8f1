"""Base classes of every Casebridge admin page: the admin's side of the one gate.

Here, below every app, so that the admin pages of agencies, audit, security
and notifications build on it without importing `cases`; the gate is reached
through `gate.port`, and each app registers the choices its models offer.

Every `ModelAdmin` and inline in Casebridge derives from `GatedModelAdmin`,
`GatedStackedInline`/`GatedTabularInline` (agency-scoped content) or
`PlatformModelAdmin` (superuser-only platform administration); a test
(`tests/config/admin/test_conventions.py`) fails on any other registration.

What the base classes guarantee, so subclasses only declare:

* **Rows** come from a selector of `cases.access` (`selector = access.visible_x`,
  or its name, `selector = "visible_x"`, in the apps below `cases`), never
  from `Model.objects`. Inlines, changelists, search, autocomplete,
  actions (their querysets are the changelist's) and `RelatedOnlyFieldListFilter`
  all start from it.
* **Invisible = missing = 404.** `get_object` raises `Http404` instead of
  Django's "doesn't exist" redirect, so change, delete and history pages of
  an object the user may not see look exactly like those of a missing one.
* **Permissions** ask the gate, never Django's model permissions
  (`is_staff`, `user.has_perm`): `has_view/change/delete_permission(obj)`
  call the gate's `can(user, <gate action>, obj)` and `has_add_permission`
  asks its `has_role`.
* **Choices** of every foreign key and many-to-many field (plain select,
  `autocomplete_fields`) come from the selector registered for the related
  model in `FIELD_SELECTORS`; a related model without one is a configuration
  error (fail closed). `raw_id_fields` is refused: its widget labels any
  primary key it is given, visible or not.
* **Writes** go through services: `create_via_service`, `update_via_service`,
  `delete_via_service` (and on inlines the same with the parent). The default
  is to refuse (NotImplementedError): a page without a service is read-only.
  A `DomainError` raised by a service rolls back the whole request (the
  admin's change view is atomic) and is shown as form errors on the re-rendered
  form; nothing is saved. `list_editable` is refused for the same reason.
* **Lists** answer from an index at any size: the count stops at
  `ADMIN_COUNT_CAP` rows (`CappedCountPaginator`, a LIMIT inside the count;
  "more than 10,000 cases" beyond, pages up to there), no second count of
  the unfiltered list (`show_full_result_count = False`), no facet counts.
  A page declares an `ordering` an index serves for an agency (the API's
  sync order, newest first), `sortable_by` only such columns, and filters
  on indexed columns (`ColumnFilter`, `AgencyColumnFilter`). Django still
  honours a hand-written `?o=` on any other column: a walk, gated like any
  page, which no link offers.
* **History** lists only entries written by members of the viewer's own
  agency: a log message written by another agency can name things (a
  confidential participant) the viewer may not know.
* **Actions**: `delete_selected` is removed; actions get the changelist's
  (gated) queryset and must call a service per object, through
  `run_service_action`, which turns `DomainError`s into messages.
* **Links** from read-only related fields (lead agency, "uploaded by", a
  task's agency, on change pages and inlines) lead to the related object's
  change page only when the reader may open it (its admin's
  `has_view_permission`); otherwise the object is named in plain text
  (`plain_label`: an agency's code and name, a person's name and agency).

A later issue's page, for example::

    FIELD_SELECTORS[MLARequest] = access.visible_mla_requests  # choices elsewhere

    @admin.register(MLARequest)
    class MLARequestAdmin(GatedModelAdmin):
        selector = access.visible_mla_requests   # rows (also in access._VISIBLE for can())
        add_role = Role.COORDINATOR              # has_add_permission
        change_action = "update"                 # has_change_permission(obj) -> can(...)
        list_filter = ("status", "requested_agency")  # relational: visible values only
        search_fields = ("reference", "title")   # the model's own fields, no joins
        autocomplete_fields = ("case",)          # never raw_id_fields

        def create_via_service(self, request, form):
            return services.create_mla_request(actor=request.user, **form.cleaned_data)

        def update_via_service(self, request, obj, form):
            return services.update_mla_request(
                actor=request.user, request=obj, **self.changed_values(form)
            )
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers as admin_helpers
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import models
from django.db.models import QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership, agency_id_of
from gate import port
from gate.errors import DomainError, NotFound, ValidationFailed

User = get_user_model()

Selector = Callable[[Any], QuerySet]


def gate_selector(name: str) -> Selector:
    """The gate's selector `name`, looked up when called (through `gate.port`)."""
    return lambda user: port.selector(name)(user)


def visible_users(user) -> QuerySet:
    """Users a person may pick (assignees): members of their own agency only."""
    memberships = port.selector("visible_memberships")(user)
    return User.objects.filter(membership__in=memberships, is_active=True)


# Which objects of a related model may be offered as a choice. Each app
# registers its models next to their admin pages
# (`FIELD_SELECTORS[MLARequest] = access.visible_mla_requests`).
FIELD_SELECTORS: dict[type[models.Model], Selector] = {
    Agency: gate_selector("visible_agencies"),
    Membership: gate_selector("visible_memberships"),
    User: visible_users,
}


def selector_for(model: type[models.Model]) -> Selector:
    try:
        return FIELD_SELECTORS[model]
    except KeyError:
        raise ImproperlyConfigured(
            f"No selector in config.admin_base.FIELD_SELECTORS for {model.__name__}: "
            "register one from cases.access before offering it as a choice."
        ) from None


def named_by_parameter(rows: QuerySet, value: str) -> models.Model | None:
    """The row of `rows` a query parameter names (its public id or its pk), or None."""
    value = (value or "").strip()
    try:
        return rows.filter(public_id=uuid.UUID(value)).first()
    except ValueError:
        pass
    return rows.filter(pk=int(value)).first() if value.isdigit() else None


def plain_label(obj) -> str:
    """How a related object is named where its page may not be opened."""
    if isinstance(obj, User):
        name = obj.get_full_name() or obj.get_username()
        membership = Membership.objects.filter(user=obj).select_related("agency").first()
        return f"{name} ({membership.agency.code})" if membership else name
    return str(obj)


def may_open(request: HttpRequest, admin_site, obj) -> bool:
    """Whether the reader may open `obj`'s change page on `admin_site`."""
    model_admin = admin_site._registry.get(type(obj))
    return model_admin is not None and model_admin.has_view_permission(request, obj)


_django_readonly_link = admin_helpers.AdminReadonlyField.get_admin_url


def _readonly_link(self, remote_field, remote_obj):
    """Django's read-only related field, linked only when the reader may open it.

    Django links every read-only foreign key to its change page, whoever
    reads (a coordinator would land on a 404 of the platform's agency page).
    The request comes from the form (`_LinkRequest`); without one, no link.
    """
    request = getattr(self.form, _LinkRequest.attr, None)
    if request is None or not may_open(request, self.model_admin.admin_site, remote_obj):
        return plain_label(remote_obj)
    return _django_readonly_link(self, remote_field, remote_obj)


admin_helpers.AdminReadonlyField.get_admin_url = _readonly_link


class _LinkRequest:
    """The request, on the per-request form class, for `_readonly_link`."""

    attr = "_cb_link_request"

    @classmethod
    def put(cls, form_class, request: HttpRequest):
        # get_form / get_formset build a new class per call: per request.
        setattr(form_class, cls.attr, request)
        return form_class


class _DomainErrorsOnForm:
    """Marker stored on the request between the failed and the re-rendered attempt."""

    attr = "_cb_admin_domain_errors"

    @classmethod
    def put(cls, request: HttpRequest, exc: DomainError) -> None:
        setattr(request, cls.attr, exc.errors)

    @classmethod
    def take(cls, request: HttpRequest) -> dict[str, list[str]] | None:
        return getattr(request, cls.attr, None)


def _with_domain_errors(form_class, request: HttpRequest):
    """A subclass of `form_class` that shows the service's errors of this request."""

    class ServiceErrorsForm(form_class):
        def clean(self):
            cleaned = super().clean()
            for field, messages_ in (_DomainErrorsOnForm.take(request) or {}).items():
                target = field if field in self.fields else None
                for message in messages_:
                    self.add_error(target, message)
            return cleaned

    ServiceErrorsForm.__name__ = form_class.__name__
    return ServiceErrorsForm


def _copy_into(target: models.Model, source: models.Model) -> None:
    """Make the admin's unsaved instance the object the service created.

    Django's change view logs and redirects with the instance it passed to
    `save_model`; the service created its own.
    """
    target.__dict__.update(source.__dict__)


#: Marks a request as the changelist's (`GatedModelAdmin.changelist_view`).
_LISTING = "_cb_admin_listing"


def _page_asked(request: HttpRequest) -> int:
    """The changelist's page number in the query string (as Django reads it:
    1 when missing or not a number)."""
    try:
        return max(1, int(request.GET.get(PAGE_VAR, 1)))
    except ValueError:
        return 1


class CappedCountPaginator(Paginator):
    """Django's paginator, counting at most `cap` rows.

    Django counts the whole filtered list (`COUNT(*)`) to number its pages:
    for an agency that sees 270,000 cases that is every one of them, on
    every page view, however fast the page itself is read from an index.
    Here the count is of the list's first `cap + 1` rows (a LIMIT inside the
    count, on the page's own index path): bounded work whatever the size.
    Beyond the cap the list says "more than <cap>" (`capped`; the admin's
    `pagination.html` and `search_form.html`) and its pages go up to row
    `cap`; a page number past them is Django's invalid page (the list's
    first page, `?e=1`). Filters and the search narrow a longer list.
    """

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
        *,
        cap: int,
    ) -> None:
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.cap = cap

    @cached_property
    def _found(self) -> int:
        """Rows found, up to one past the cap."""
        first_rows = self.object_list[: self.cap + 1]
        if isinstance(first_rows, QuerySet):
            return first_rows.count()  # SELECT COUNT(*) FROM (… LIMIT cap + 1)
        return len(first_rows)

    @cached_property
    def count(self) -> int:
        return min(self._found, self.cap)

    @property
    def capped(self) -> bool:
        """Whether the list holds more rows than `count` says."""
        return self._found > self.cap


class ColumnFilter(admin.SimpleListFilter):
    """A list filter on one column of the changelist's rows, the column the
    API's filter of the same meaning reads (for cases, the grant's copy of
    the case's status: `access.LIST_FILTER_COLUMNS`), so that a filtered
    page comes from the same index as the API's. Its choices are fixed
    (`column_choices`), never the values found by walking the rows. A value
    that is no choice matches nothing, as in the API. Subclasses set
    `title`, `parameter_name`, `column` and `column_choices`."""

    column: ClassVar[str] = ""
    column_choices: ClassVar[Any] = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        return list(self.column_choices)

    def matching(self, value: str) -> Any:
        """What the column is compared with for the value in the query string."""
        return value

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(**{self.column: self.matching(value)})


class AgencyColumnFilter(ColumnFilter):
    """An agency named by its code in the query string (`?agency=KR-KNP`, as
    the API's `AgencyCodeFilter`), matched on the id column `column`, so that
    the indexes keyed by agency serve the filter.

    The choices are the agency directory (`visible_agencies`, which every
    member may read), not the agencies found in the rows: finding those
    walks the whole list. The directory read for the choices also gives the
    chosen agency's id, compared as a value: PostgreSQL then knows how many
    rows that agency has and reads its index (a scalar subquery, as the API
    compares, hides the value from the planner, which then guessed few rows
    and hashed the whole agency's tasks: 436 ms against 36 ms for a busy
    agency's count at 1M cases). A code outside the directory (an inactive
    agency) is matched through `agency_id_of`; an unknown one matches
    nothing. Choosing an agency the rows do not name, or one whose part the
    reader may not know of, lists nothing: the rows are the gate's."""

    agency_ids: dict[str, int]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        agencies = port.selector("visible_agencies")(request.user).order_by("code")
        self.agency_ids = dict(agencies.values_list("code", "pk"))
        return [(code, code) for code in self.agency_ids]

    def matching(self, value: str) -> Any:
        pk = self.agency_ids.get(value)
        return pk if pk is not None else Subquery(agency_id_of(value))


if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin

    _AdminBase = BaseModelAdmin[Any]
else:
    _AdminBase = object


class GatedAdminMixin(_AdminBase):
    """What ModelAdmins and inlines share: rows, choices, filters, 404s."""

    #: The `cases.access` selector rows come from, e.g. `access.visible_cases`,
    #: or its name ("visible_cases") in the apps below `cases`.
    selector: ClassVar[Selector | str | None] = None
    #: The selector of the changelist, if it reads a page in another shape:
    #: the same rows as `selector`, narrowed for the indexes (as the API's
    #: `list_selector`, e.g. `access.listed_tasks`).
    list_selector: ClassVar[Selector | str | None] = None

    def get_selector(self, attribute: str = "selector") -> Selector:
        # Read the plain function from the class: through the instance it would
        # become a bound method and receive the admin as its "user".
        for klass in type(self).__mro__:
            if klass.__dict__.get(attribute) is not None:
                selector = klass.__dict__[attribute]
                if isinstance(selector, str):
                    return port.selector(selector)
                return selector.__func__ if isinstance(selector, staticmethod) else selector
        if attribute != "selector":
            return self.get_selector()
        raise ImproperlyConfigured(f"{type(self).__name__} needs a selector.")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        listing = getattr(request, _LISTING, False)
        qs = self.get_selector("list_selector" if listing else "selector")(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def get_field_queryset(self, db, db_field, request: HttpRequest) -> QuerySet:
        """Every foreign-key / many-to-many choice list, autocomplete widgets included."""
        qs = selector_for(db_field.remote_field.model)(request.user)
        related_admin = self.admin_site._registry.get(db_field.remote_field.model)
        if related_admin is not None:
            ordering = related_admin.get_ordering(request)
            if ordering:
                qs = qs.order_by(*ordering)
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", self.get_field_queryset(None, db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", self.get_field_queryset(None, db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_raw_id_fields(self, request: HttpRequest):
        return ()

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.raw_id_fields:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: raw_id_fields label any id they are given; "
                "use autocomplete_fields."
            )
        if getattr(self, "list_editable", ()):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: list_editable saves outside the change form, "
                "where a refused service call cannot become a form error; use an action."
            )
        return errors


class GatedModelAdmin(GatedAdminMixin, admin.ModelAdmin):
    """Base of every admin page on agency-scoped content (see module docstring).

    Declare `selector`, the gate actions (`change_action`, `delete_action`,
    `add_role`) and the service hooks; leave permissions and querysets alone.
    """

    #: gate action checked for "change" on an object (None: never changeable here)
    change_action: str | None = None
    #: gate action checked for "delete" on an object (None: never deletable here)
    delete_action: str | None = None
    #: lowest role (gate.roles.Role) that may add (None: never addable here)
    add_role: str | None = None
    #: most rows a list counts (None: `settings.ADMIN_COUNT_CAP`)
    count_cap: int | None = None
    #: count no further than this many pages past the page shown (None: to
    #: the cap); for lists whose every row costs the gate's probes
    count_pages_ahead: int | None = None
    actions_on_bottom = False
    # One capped count per page (`CappedCountPaginator`), not a second one of
    # the unfiltered list, nor one per filter value (facets).
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # --- permissions: the gate, never Django's model permissions ----------

    def is_member(self, request: HttpRequest) -> bool:
        return port.membership_of(request.user) is not None

    def gate_allows(self, request: HttpRequest, action: str, obj) -> bool:
        """Override for models the gate's `can` does not know (agencies, members)."""
        return port.can(request.user, action, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.is_member(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if not self.is_member(request):
            return False
        return obj is None or self.gate_allows(request, "view", obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if self.change_action is None or not self.is_member(request):
            return False
        return obj is None or self.gate_allows(request, self.change_action, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if self.delete_action is None or not self.is_member(request):
            return False
        return obj is None or self.gate_allows(request, self.delete_action, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.add_role is not None and port.has_role(request.user, self.add_role)

    # --- invisible objects are missing objects ------------------------------

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found."))
        return obj

    # --- writes through services --------------------------------------------

    def create_via_service(self, request: HttpRequest, form) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} creates nothing without a service.")

    def update_via_service(self, request: HttpRequest, obj, form) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} changes nothing without a service.")

    def delete_via_service(self, request: HttpRequest, obj) -> None:
        raise NotImplementedError(f"{type(self).__name__} deletes nothing without a service.")

    def changed_values(self, form) -> dict[str, Any]:
        """The form's changed fields and their cleaned values: the service's `**changes`."""
        return {name: form.cleaned_data[name] for name in form.changed_data}

    def get_changeform_initial_data(self, request):
        """`?case=` (a case's pk or public id, as the workspace links) preselects
        the case only when the reader sees it: a hidden case selects nothing."""
        initial = super().get_changeform_initial_data(request)
        if "case" in initial:
            initial.pop("case")
            field = next((f for f in self.opts.fields if f.name == "case" and f.is_relation), None)
            if field is not None:
                rows = selector_for(field.remote_field.model)(request.user)
                case = named_by_parameter(rows, request.GET.get("case", ""))
                if case is not None:
                    initial["case"] = case.pk
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = _with_domain_errors(super().get_form(request, obj, change, **kwargs), request)
        return _LinkRequest.put(form, request)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            result = self.update_via_service(request, obj, form)
        else:
            result = self.create_via_service(request, form)
        if result is not None:
            _copy_into(obj, result)

    def save_related(self, request, form, formsets, change) -> None:
        # No form.save_m2m(): many-to-many writes are services' too.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change) -> None:
        inline = getattr(formset, "cb_inline", None)
        if inline is None:
            raise ImproperlyConfigured("Inlines of a GatedModelAdmin must be Gated inlines.")
        parent = form.instance
        # Django's change message reads these, as set by BaseModelFormSet.save().
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        try:
            deleted = set()
            for inline_form in formset.deleted_forms:
                if inline_form.instance.pk is not None:
                    inline.delete_via_service(request, parent, inline_form.instance)
                    formset.deleted_objects.append(inline_form.instance)
                deleted.add(id(inline_form))
            for inline_form in formset.forms:
                if id(inline_form) in deleted or not inline_form.has_changed():
                    continue
                if inline_form.instance.pk is None:
                    created = inline.create_via_service(request, parent, inline_form)
                    formset.new_objects.append(created)
                else:
                    obj = inline_form.instance
                    inline.update_via_service(request, parent, obj, inline_form)
                    formset.changed_objects.append((obj, inline_form.changed_data))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            # Shown on the page's main form, named after the inline it came from.
            label = capfirst(inline.verbose_name)
            raise ValidationFailed(
                {
                    "non_field_errors": [
                        f"{label}: {message}"
                        for messages_ in exc.errors.values()
                        for message in messages_
                    ]
                }
            ) from exc

    def delete_model(self, request, obj) -> None:
        self.delete_via_service(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_via_service(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Run the change view; if a service refuses, show why on the same form.

        The first attempt runs in Django's atomic block, so the refusal rolls
        back everything it wrote; the second attempt re-validates the same
        POST with the service's errors added to the form, which makes the form
        invalid and renders it again, saving nothing.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except DomainError as exc:
            if request.method != "POST":
                raise
            _DomainErrorsOnForm.put(request, exc)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return TemplateResponse(
                request,
                "admin/casebridge/refused.html",
                {**self.admin_site.each_context(request), "message": exc.message},
                status=exc.status_code,
            )

    # --- lists ----------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """A query string with a NUL character is refused (400): PostgreSQL
        cannot compare text with it, so a filter, search or lookup naming one
        would fail as the list is read (a 500), not match nothing."""
        if any("\x00" in "".join([key, *values]) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(gettext("The query string contains a NUL character."))
        # The rows of this request (the list, its actions) from `list_selector`.
        setattr(request, _LISTING, True)
        return super().changelist_view(request, extra_context)

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CappedCountPaginator:
        """Pages whose count stops at the cap (`CappedCountPaginator`).

        With `count_pages_ahead`, the cap is also the end of that many pages
        past the one asked for ("more than 200 tasks" on the first page of
        100, then 300 on the second…): the count then reads about as many
        rows as the page and its next one, whatever the list's length, and
        the pages go on one by one. The cap is at least a page and at least
        "Show all"'s limit: Django reads a list of one page, or one shown all
        at once, without a LIMIT, which is bounded only if that count was
        exact."""
        cap = self.count_cap if self.count_cap is not None else settings.ADMIN_COUNT_CAP
        if self.count_pages_ahead is not None:
            cap = min(cap, (_page_asked(request) + self.count_pages_ahead) * per_page)
        cap = max(cap, per_page, self.list_max_show_all)
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page, cap=cap)

    # --- actions --------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def run_service_action(self, request, queryset, call: Callable[[Any], Any], done) -> int:
        """Call a service for each selected object; report refusals, not tracebacks.

        Each object is its own transaction (the services are atomic): one
        refused object does not undo the others, and is named in a message.
        """
        ok = 0
        for obj in queryset:
            try:
                call(obj)
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                ok += 1
        if ok:
            self.message_user(request, done % {"count": ok}, messages.SUCCESS)
        return ok

    # --- history: own agency's entries only ---------------------------------

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise Http404(gettext("Not found."))
        agency = port.agency_of(request.user)
        action_list = (
            LogEntry.objects.filter(
                object_id=str(obj.pk),
                content_type=ContentType.objects.get_for_model(self.model),
                user__membership__agency=agency,
            )
            .select_related("user")
            .order_by("action_time")
        )
        paginator = self.get_paginator(request, action_list, 100)
        page_obj = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Change history: %s") % obj,
            "subtitle": None,
            "action_list": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > 100,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            "history_scope_note": _("Only changes made by members of your agency are listed."),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            self.object_history_template
            or [
                f"admin/{self.opts.app_label}/{self.opts.model_name}/object_history.html",
                f"admin/{self.opts.app_label}/object_history.html",
                "admin/object_history.html",
            ],
            context,
        )

    # --- filters --------------------------------------------------------------

    def get_list_filter(self, request):
        """Relational filters list only values found in the visible rows.

        (Finding them reads the whole list: a list that grows with an
        agency's cases names its agencies with `AgencyColumnFilter`.)"""
        scoped = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                field = self._filter_field(item)
                if field is not None and field.is_relation:
                    item = (item, admin.RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped

    def _filter_field(self, path: str):
        try:
            return get_fields_from_path(self.model, path)[-1]
        except Exception:
            return None


class _GatedInlineMixin(GatedAdminMixin):
    """Inlines: rows from the selector; permissions on the *parent* object.

    `may_add(request, parent)`, `may_change(request, parent)` and
    `may_delete(request, parent)` are asked with the parent (None on the add
    page); the defaults refuse. Writes go to `create_via_service(request,
    parent, form)`, `update_via_service(request, parent, obj, form)` and
    `delete_via_service(request, parent, obj)`.
    """

    extra = 0

    def may_add(self, request, parent) -> bool:
        return False

    def may_change(self, request, parent) -> bool:
        return False

    def may_delete(self, request, parent) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return port.membership_of(request.user) is not None and (
            obj is None or port.can(request.user, "view", obj)
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is not None and self.may_add(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is not None and self.may_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is not None and self.may_delete(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.cb_inline = self
        _LinkRequest.put(formset.form, request)
        return formset

    def create_via_service(self, request, parent, form):
        raise NotImplementedError(f"{type(self).__name__} creates nothing without a service.")

    def update_via_service(self, request, parent, obj, form):
        raise NotImplementedError(f"{type(self).__name__} changes nothing without a service.")

    def delete_via_service(self, request, parent, obj) -> None:
        raise NotImplementedError(f"{type(self).__name__} deletes nothing without a service.")

    def changed_values(self, form) -> dict[str, Any]:
        return {name: form.cleaned_data[name] for name in form.changed_data}


class GatedTabularInline(_GatedInlineMixin, admin.TabularInline):
    """Tabular inline on agency-scoped content."""


class GatedStackedInline(_GatedInlineMixin, admin.StackedInline):
    """Stacked inline on agency-scoped content."""


class PlatformModelAdmin(admin.ModelAdmin):
    """Platform administration (agencies, user accounts): the superuser's alone.

    Platform administrators see no case content; these pages hold none.
    Members, agency administrators included, never reach them.
    """

    def _is_platform_admin(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_superuser

    def has_module_permission(self, request) -> bool:
        return self._is_platform_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_platform_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_platform_admin(request)

    def has_add_permission(self, request) -> bool:
        return self._is_platform_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Members get no rows at all: their lookups 404 like missing objects.
        qs = super().get_queryset(request)
        return qs if self._is_platform_admin(request) else qs.none()

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Not found."))
        return obj

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _LinkRequest.put(super().get_form(request, obj, change, **kwargs), request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
