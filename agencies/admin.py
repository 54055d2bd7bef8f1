"""Platform and agency administration.

* The platform superuser manages agencies (`AgencyAdmin`) and user accounts
  (`UserAdmin`), and may invite an agency's first members.
* An agency administrator manages their own agency's members
  (`MembershipAdmin`: invite, change role, deactivate) and nothing else;
  the list shows where each member signs in (local password or the
  agency's identity provider) and when they last did.
* The platform superuser registers an agency's OpenID Connect identity
  provider (`IdentityProviderAdmin`, through `agencies.sso.save_provider`).

Both follow `config.admin_base`: rows from the gate, writes through
`agencies.services`.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.admin_base import GatedModelAdmin, PlatformModelAdmin
from gate import port
from gate.roles import Role

from . import services, sso
from .models import Agency, IdentityProvider, Membership

User = get_user_model()

# Agency groups hold the case grants and are written only by services;
# hand-editing one would grant or revoke access behind the gate's back.
admin.site.unregister(Group)
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(PlatformModelAdmin, DjangoUserAdmin):
    """User accounts, for the platform superuser (password resets, lockouts)."""

    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()


class AgencyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = (
            "code",
            "name",
            "country",
            "kind",
            "timezone",
            "active",
            "contributes_statistics",
        )


@admin.register(Agency)
class AgencyAdmin(PlatformModelAdmin):
    form = AgencyForm
    list_display = (
        "code",
        "name",
        "country",
        "kind",
        "timezone",
        "active",
        "contributes_statistics",
    )
    list_filter = ("kind", "active", "contributes_statistics")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        # Consent to pooled statistics has its own service (who may change
        # it, its own audit event); the rest is platform administration.
        consent = "contributes_statistics"
        if change:
            changes = {
                k: form.cleaned_data[k] for k in form.changed_data if k not in ("code", consent)
            }
            if changes:
                services.update_agency(agency=obj, **changes)
            stored = obj
        else:
            stored = services.create_agency(
                **{k: form.cleaned_data[k] for k in ("code", "name", "country", "kind", "timezone")}
            )
        if consent in form.changed_data:
            stored = services.set_statistics_contribution(
                actor=request.user, agency=stored, contributes=form.cleaned_data[consent]
            )
        # The change view logs and redirects with `obj`: make it the stored row.
        obj.__dict__.update(stored.__dict__)


class InviteForm(forms.ModelForm):
    """Invite = a new user account and its membership, with an initial password."""

    username = forms.CharField(label=_("username"), max_length=150)
    email = forms.EmailField(label=_("e-mail address"), required=False)
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("initial password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Hand it over separately; the person changes it after signing in."),
    )

    class Meta:
        model = Membership
        fields = ("agency", "role", "language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            # Each language under its own name, as in the preferences page.
            self.fields["language"].choices = [("", "---------"), *settings.LANGUAGES]

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(
            password, User(username=self.cleaned_data.get("username", ""))
        )
        return password


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("role",)


@admin.register(Membership)
class MembershipAdmin(GatedModelAdmin):
    """Members of the agency administrator's own agency (the gate's
    `visible_memberships`); the platform superuser sees all, to invite the
    first administrator of an agency."""

    selector = "visible_memberships"
    list_display = ("username", "full_name", "role", "source", "last_sign_in", "is_active")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user", "agency", "user__external_identity")
    actions = ("deactivate",)

    # --- who: agency administrators of their own agency; the superuser ----------

    def _is_agency_admin(self, request) -> bool:
        membership = port.membership_of(request.user)
        return membership is not None and membership.role == Role.AGENCY_ADMIN

    def _is_platform_admin(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def is_member(self, request) -> bool:
        return self._is_agency_admin(request) or self._is_platform_admin(request)

    def get_queryset(self, request):
        if self._is_agency_admin(request):
            return super().get_queryset(request).select_related("user__external_identity")
        if self._is_platform_admin(request) and port.membership_of(request.user) is None:
            return Membership.objects.select_related("user", "agency", "user__external_identity")
        return Membership.objects.none()

    def gate_allows(self, request, action, obj) -> bool:
        return self.get_queryset(request).filter(pk=obj.pk).exists() and (
            action == "view" or self._is_agency_admin(request)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if not self._is_agency_admin(request):
            return False
        return obj is None or self.gate_allows(request, "change", obj)

    def has_add_permission(self, request) -> bool:
        return self.is_member(request)

    def get_list_display(self, request):
        if self._is_platform_admin(request):
            return ("username", "agency", "role", "source", "last_sign_in", "is_active")
        return self.list_display

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipChangeForm if obj is not None else InviteForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return (
                (
                    None,
                    {
                        "fields": (
                            "username",
                            "full_name",
                            "role",
                            "language",
                            "source",
                            "last_sign_in",
                        )
                    },
                ),
            )
        who = ("username", "email", "first_name", "last_name", "password")
        if self._is_agency_admin(request):
            return ((None, {"fields": (*who, "role", "language")}),)
        return ((None, {"fields": (*who, "agency", "role", "language")}),)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("username", "full_name", "language", "source", "last_sign_in")
        return ()

    def get_field_queryset(self, db, db_field, request):
        if db_field.name == "agency" and self._is_platform_admin(request):
            return Agency.objects.filter(active=True)
        return super().get_field_queryset(db, db_field, request)

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, membership):
        return membership.user.username

    @admin.display(description=_("name"))
    def full_name(self, membership):
        return membership.user.get_full_name()

    @admin.display(description=_("signs in with"))
    def source(self, membership):
        """The agency's identity provider, or a local password: a member
        from the provider loses access when the provider stops vouching."""
        if hasattr(membership.user, "external_identity"):
            return gettext("Identity provider")
        return gettext("Local password")

    @admin.display(description=_("last sign-in"), ordering="user__last_login")
    def last_sign_in(self, membership):
        return membership.user.last_login

    @admin.display(description=_("active"), boolean=True)
    def is_active(self, membership):
        return membership.user.is_active

    def create_via_service(self, request, form):
        data = form.cleaned_data
        agency = data.get("agency") or port.agency_of(request.user)
        return services.invite_member(
            actor=request.user,
            agency=agency,
            username=data["username"],
            role=data["role"],
            password=data["password"],
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            language=data.get("language", ""),
        )

    def update_via_service(self, request, obj, form):
        if "role" not in form.changed_data:
            return None
        return services.change_role(
            actor=request.user, membership=obj, role=form.cleaned_data["role"]
        )

    @admin.action(description=_("Deactivate selected members"))
    def deactivate(self, request, queryset):
        self.run_service_action(
            request,
            queryset.select_related("user"),
            lambda m: services.deactivate_member(actor=request.user, membership=m),
            gettext("Deactivated %(count)d member(s)."),
        )


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(
        label=_("issuer"),
        max_length=500,
        assume_scheme="https",
        help_text=IdentityProvider._meta.get_field("issuer").help_text,
    )

    class Meta:
        model = IdentityProvider
        fields = (
            "agency",
            "issuer",
            "client_id",
            "client_secret_env",
            "scopes",
            "email_domains",
            "role_claim",
            "role_mapping",
            "default_role",
            "mfa_trusted",
            "mfa_acr_values",
            "mfa_amr_values",
            "active",
        )


@admin.register(IdentityProvider)
class IdentityProviderAdmin(PlatformModelAdmin):
    """An agency's OpenID Connect provider, registered by the platform superuser.

    The secret is not entered here: the form names the environment variable
    that holds it. The redirect URI to register at the provider is shown once
    the provider is saved.
    """

    form = IdentityProviderForm
    list_display = ("agency", "issuer", "client_id", "mfa_trusted", "active")
    list_filter = ("active", "mfa_trusted")
    search_fields = ("agency__code", "issuer", "client_id")
    list_select_related = ("agency",)

    def get_readonly_fields(self, request, obj=None):
        return ("agency", "redirect_uri") if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = list(IdentityProviderForm.Meta.fields)
        return [*fields, "redirect_uri"] if obj is not None else fields

    def get_field_queryset(self, db, db_field, request):
        if db_field.name == "agency":
            return Agency.objects.filter(active=True, identity_provider__isnull=True)
        return super().get_field_queryset(db, db_field, request)

    @admin.display(description=_("redirect URI"))
    def redirect_uri(self, obj):
        path = reverse("sso-callback", args=[obj.agency.code])
        return f"{settings.CASEBRIDGE_BASE_URL.rstrip('/')}{path}"

    def save_model(self, request, obj, form, change):
        sso.save_provider(actor=request.user, provider=obj)
