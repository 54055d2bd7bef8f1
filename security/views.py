"""Enrolment in two-factor authentication, the code page after a provider sign-in, the lock-out."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.ratelimit import hit

from .forms import EnrolForm, VerifyForm
from .policy import has_confirmed_device, requires_2fa
from .signals import record_login_event

ENROL_DEVICE_KEY = "_cb_enrol_device"


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """The same answer whether the username exists or not (no enumeration)."""
    return render(
        request,
        "security/locked_out.html",
        {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        status=429,
    )


def _recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with a fresh set, shown once."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_STATIC_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_confirmed_device(user) and not user.is_verified():
        # A password alone must never add a device to an account that has one:
        # that would let a stolen password defeat the second factor.
        logout(request)
        return redirect("admin:login")
    # One fresh key per enrolment, kept for this session only: a key left from
    # an earlier attempt (or a device reset after a lost phone) is never reused.
    device = TOTPDevice.objects.filter(
        user=user, confirmed=False, pk=request.session.get(ENROL_DEVICE_KEY)
    ).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
        request.session[ENROL_DEVICE_KEY] = device.pk
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            request.session.pop(ENROL_DEVICE_KEY, None)
            otp_login(request, device)
            record_login_event("2fa_enrolled", request=request, username=user.get_username())
            return render(
                request,
                "security/enrolled.html",
                {"codes": _recovery_codes(user), "title": _("Two-factor authentication is on")},
            )
        form.add_error(
            "token", _("That code is not valid. Check the time on your phone and try again.")
        )
    return render(
        request,
        "security/enrol.html",
        {
            "form": form,
            "secret": base64.b32encode(device.bin_key).decode(),
            "otpauth_uri": device.config_url,
            "required": requires_2fa(user),
            "title": _("Set up two-factor authentication"),
        },
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a session that has no password step to ask the code
    in (signed in through an identity provider not trusted for MFA).

    Wrong codes are counted per user like failed logins (AXES_FAILURE_LIMIT
    per AXES_COOLOFF): past that, the session ends.
    """
    user = request.user
    if user.is_verified():
        return redirect(_safe_next(request))
    if not has_confirmed_device(user):
        return redirect("security:enrol")
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"].strip()
        model = TOTPDevice if token.isdigit() else StaticDevice
        device = model.objects.devices_for_user(user, confirmed=True).first()
        if device is not None and device.verify_token(token):
            otp_login(request, device)
            return redirect(_safe_next(request))
        # On the record as any failed login (audit, logs, axes' count).
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        limit = settings.AXES_FAILURE_LIMIT
        window = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not hit("otp-verify", str(user.pk), limit=limit, window=window).allowed:
            logout(request)
            return locked_out(request)
        form.add_error("otp_token", _("That code is not valid."))
    return render(
        request,
        "security/verify.html",
        {
            "form": form,
            "next": _safe_next(request),
            "title": _("Enter your authentication code"),
        },
    )
