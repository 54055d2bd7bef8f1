from __future__ import annotations

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import IdentityProvider
from config.admin_site import MembershipAuthenticationForm

from .policy import has_confirmed_device


class AdminLoginForm(OTPAuthenticationFormMixin, MembershipAuthenticationForm):
    """The admin login: password, then the one-time code if the user has a device.

    A user who must use 2FA but has no device yet logs in with the password
    and is held on the enrolment page by `TwoFactorRequiredMiddleware`. A
    wrong code counts as a failed login for axes, so codes cannot be guessed
    faster than passwords.
    """

    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=_("Enter the code from your authenticator app."),
        device_required=OTPAuthenticationFormMixin.otp_error_messages["invalid_token"],
    )
    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        label=_("Authentication code"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("From your authenticator app, or one of your recovery codes."),
    )

    def confirm_login_allowed(self, user):
        """A member of an agency that signs in through its identity provider
        may not use a local password: the provider decides who still works
        there, and a password would outlive the person's leaving."""
        super().confirm_login_allowed(user)
        provider = (
            IdentityProvider.objects.filter(active=True, agency__memberships__user_id=user.pk)
            .select_related("agency")
            .first()
        )
        if provider is not None:
            raise forms.ValidationError(
                _(
                    "%(agency)s signs in through its identity provider: "
                    "use “Sign in with %(agency)s”."
                ),
                code="provider_sign_in",
                params={"agency": provider.agency.code},
            )

    def _chosen_device(self, user):
        """The device the code belongs to, told by its shape, not by a posted id.

        Authenticator codes are digits; recovery codes are letters and
        digits. Choosing here keeps the login a single plain form and never
        trusts a device id sent by the client.
        """
        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = TOTPDevice if token.isdigit() else StaticDevice
        return model.objects.devices_for_user(user, confirmed=True).select_for_update().first()

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and has_confirmed_device(user):
            try:
                self.clean_otp(user)
            except forms.ValidationError:
                if cleaned.get("otp_token"):
                    user_login_failed.send(
                        sender=__name__,
                        credentials={"username": cleaned.get("username")},
                        request=self.request,
                    )
                raise
        return cleaned


class VerifyForm(forms.Form):
    """The one-time code of a session signed in through an identity provider
    that is not trusted for MFA (no password form to ask it on)."""

    otp_token = forms.CharField(
        label=_("Authentication code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("From your authenticator app, or one of your recovery codes."),
    )


class EnrolForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
