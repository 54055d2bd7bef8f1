import re
import uuid
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gate.roles import Role

from .choices import LANGUAGE_CHOICES, AgencyKind


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class Agency(models.Model):
    """A law-enforcement body: the unit that grants and receives access.

    Every object permission in Casebridge is granted to an agency's own Group,
    never to a person, so that access follows the institution and a
    person's access ends with their membership.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9-]{1,19}$", _("Upper-case letters, digits and -."))
        ],
    )
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(
        _("country"),
        max_length=3,
        validators=[RegexValidator(r"^([A-Z]{2}|INT)$", _("ISO 3166-1 alpha-2 code or INT."))],
        help_text=_("ISO 3166-1 alpha-2, or INT for an international organisation."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    active = models.BooleanField(_("active"), default=True)
    # Consent, not access: pooled figures are aggregates (`cases.statistics`),
    # and an agency's data joins them only when it says so.
    contributes_statistics = models.BooleanField(
        _("contributes to cross-agency statistics"),
        default=False,
        help_text=_(
            "The agency's cases, MLA requests, victims, assets and identifiers count in the "
            "statistics pooled across contributing agencies (aggregates only, small counts "
            "suppressed). Only the platform administrator or the agency's administrators "
            "change it."
        ),
    )
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="agency", verbose_name=_("group")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


def agency_id_of(code: str) -> models.QuerySet[Agency, Any]:
    """The agency named by `code`, as a one-column queryset for a scalar
    subquery (`Subquery(agency_id_of(code))`; codes are unique): a list
    filtered by agency then compares ids, which the indexes keyed by agency
    serve, where a join on the code could not. An unknown code matches
    nothing. No ORDER BY: one row at most. The API's and the admin's agency
    filters both read this."""
    return Agency.objects.filter(code=code).order_by().values("pk")


class Membership(models.Model):
    """Binds a user to exactly one agency with one role.

    One agency per user (a OneToOne) keeps "whose data is this person acting
    for" unambiguous in every audit row and every permission check.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("agency")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=LANGUAGE_CHOICES,
        help_text=_("Language of the user interface and e-mails; empty: the browser's."),
    )
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        help_text=_("A partner system's account: API tokens only, no web login."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency.code} ({self.role})"


class ApiToken(models.Model):
    """A bearer token of a partner system's service account.

    Only a SHA-256 of the token is stored: a database dump yields no usable
    credential. `prefix` (the first characters) lets an administrator tell
    tokens apart without the secret.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=200)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key hash")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`.

    A partner system retrying after a timeout gets this response again instead
    of creating a second case; see `config.api.idempotency`. The unique
    constraint is what makes two concurrent retries safe.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    method = models.CharField(max_length=10, verbose_name=_("HTTP method"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name=_("status code"))
    response_body = models.JSONField(null=True, verbose_name=_("response body"))
    response_headers = models.JSONField(default=dict, verbose_name=_("response headers"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


SECRET_ENV_NAME = RegexValidator(
    r"^[A-Z][A-Z0-9_]{2,99}$", _("An environment variable name: A-Z, 0-9 and _.")
)


def validate_role_mapping(value: object) -> None:
    """`{claim value: role}`, every role a Casebridge role."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(_('Give an object such as {"knp-investigators": "investigator"}.'))
    unknown = sorted({v for v in value.values() if v not in Role.values})
    if unknown:
        raise ValidationError(
            _("Unknown role(s): %(roles)s. Roles: %(known)s."),
            params={"roles": ", ".join(unknown), "known": ", ".join(Role.values)},
        )


def validate_email_domains(value: str) -> None:
    domains = split_words(value)
    if not domains:
        raise ValidationError(_("Name at least one e-mail domain."))
    for domain in domains:
        if not re.fullmatch(
            r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", domain
        ):
            raise ValidationError(_("Not an e-mail domain: %(domain)s"), params={"domain": domain})


def split_words(value: str) -> list[str]:
    """Comma- or space-separated words, lower-cased, each once, in order."""
    seen: dict[str, None] = {}
    for word in re.split(r"[\s,]+", value or ""):
        if word:
            seen.setdefault(word.strip().lower(), None)
    return list(seen)


class IdentityProvider(models.Model):
    """An agency's own OpenID Connect provider: how its people sign in.

    A provider vouches for one agency only (`agency`, one provider each):
    everyone it signs in becomes or stays a member of that agency, in the
    role its `role_claim` maps to, and only for the e-mail domains listed.
    The client secret is never stored: `client_secret_env` names the
    environment variable that holds it, so a database dump yields nothing
    to impersonate Casebridge with at the provider.
    """

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public ID")
    )
    agency = models.OneToOneField(
        Agency,
        on_delete=models.PROTECT,
        related_name="identity_provider",
        verbose_name=_("agency"),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=500,
        help_text=_(
            "The provider's issuer URL, exactly as in its discovery document "
            "(<issuer>/.well-known/openid-configuration)."
        ),
    )
    client_id = models.CharField(_("client ID"), max_length=255)
    client_secret_env = models.CharField(
        _("client secret variable"),
        max_length=100,
        blank=True,
        validators=[SECRET_ENV_NAME],
        help_text=_(
            "Name of the environment variable that holds the client secret (for example "
            "OIDC_KR_KNP_SECRET); the secret itself is never stored. Empty: a public client "
            "(PKCE only)."
        ),
    )
    scopes = models.CharField(
        _("scopes"),
        max_length=255,
        default="openid email profile",
        help_text=_("Requested scopes, space-separated; must include openid."),
    )
    email_domains = models.CharField(
        _("allowed e-mail domains"),
        max_length=1000,
        validators=[validate_email_domains],
        help_text=_(
            "Comma-separated, for example police.go.kr. A sign-in with an e-mail address "
            "of any other domain is refused."
        ),
    )
    role_claim = models.CharField(
        _("role claim"),
        max_length=100,
        default="groups",
        help_text=_("The claim that carries the person's group or role (a string or a list)."),
    )
    role_mapping = models.JSONField(
        _("role mapping"),
        default=dict,
        blank=True,
        validators=[validate_role_mapping],
        help_text=_(
            'Claim value to Casebridge role, for example {"knp-investigators": '
            '"investigator", "knp-coordinators": "coordinator"}. The highest mapped '
            "role wins."
        ),
    )
    default_role = models.CharField(
        _("default role"),
        max_length=20,
        blank=True,
        default=Role.VIEWER,
        choices=Role.choices,
        help_text=_(
            "Role of a person whose claim maps to no role above. Empty: such a person "
            "is refused, and a member whose claim stops mapping loses access."
        ),
    )
    mfa_trusted = models.BooleanField(
        _("provider's MFA satisfies 2FA"),
        default=False,
        help_text=_(
            "On: a sign-in whose acr or amr below shows multi-factor authentication counts "
            "as Casebridge's second factor, and one that does not is refused for roles that "
            "need 2FA. Off: those roles enter their Casebridge authenticator code after "
            "signing in."
        ),
    )
    mfa_acr_values = models.CharField(
        _("MFA acr values"),
        max_length=500,
        blank=True,
        help_text=_("acr values that mean multi-factor authentication, space-separated."),
    )
    mfa_amr_values = models.CharField(
        _("MFA amr values"),
        max_length=255,
        default="mfa",
        blank=True,
        help_text=_(
            "amr values (RFC 8176) that mean multi-factor authentication, space-separated."
        ),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "While active, the agency's members sign in through this provider only (their "
            "local passwords are refused)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["agency__code"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="identity_provider_client")
        ]

    def __str__(self) -> str:
        return f"{self.agency.code}: {self.issuer}"

    def clean(self) -> None:
        parts = urlsplit(self.issuer or "")
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValidationError({"issuer": _("The issuer must be an https:// URL.")})
        if parts.query or parts.fragment:
            raise ValidationError({"issuer": _("The issuer has no query or fragment.")})
        if "openid" not in self.scopes.split():
            raise ValidationError({"scopes": _("The scopes must include openid.")})
        if self.mfa_trusted and not (self.mfa_acr_values.split() or self.mfa_amr_values.split()):
            raise ValidationError(
                {"mfa_amr_values": _("Name the acr or amr values that mean MFA.")}
            )

    def allowed_domains(self) -> list[str]:
        return split_words(self.email_domains)


class ExternalIdentity(models.Model):
    """The person at a provider (`issuer`, `subject`) a Casebridge user is.

    Its presence makes the user's source a provider rather than a local
    password. The pair is unique across providers, so one person at one
    issuer is one Casebridge user, in one agency, whichever provider
    configuration they come through.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="external_identity",
        verbose_name=_("user"),
    )
    provider = models.ForeignKey(
        IdentityProvider,
        on_delete=models.PROTECT,
        related_name="identities",
        verbose_name=_("identity provider"),
    )
    issuer = models.CharField(_("issuer"), max_length=500)
    subject = models.CharField(_("subject"), max_length=255)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    last_checked_at = models.DateTimeField(
        _("last confirmed by the provider"), null=True, blank=True
    )
    deprovisioned_at = models.DateTimeField(
        _("provider stopped vouching at"),
        null=True,
        blank=True,
        help_text=_("Set when the provider no longer knew the person or their role claim."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer}"
