"""Sign in through an agency's identity provider: the redirect out and the callback.

`/account/sso/<agency code>/` sends the browser to the agency's provider;
the provider sends it back to `/account/sso/<agency code>/callback/`, the
redirect URI to register at the provider. The rules are `agencies.sso`'s;
the protocol is `agencies.oidc`'s.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import oidc, sso
from .models import IdentityProvider

NEXT_KEY = "_cb_sso_next"


def callback_url(request: HttpRequest, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(reverse("sso-callback", args=[provider.agency.code]))


def _provider(code: str) -> IdentityProvider:
    provider = sso.provider_for_sign_in(code)
    if provider is None:
        raise Http404(_("No identity provider signs in for this agency."))
    return provider


def _refused(request: HttpRequest, provider: IdentityProvider, message: str, status: int):
    return render(
        request,
        "agencies/sso_refused.html",
        {"title": _("Sign-in refused"), "message": message, "agency": provider.agency},
        status=status,
    )


@never_cache
@require_GET
def sso_start(request: HttpRequest, code: str) -> HttpResponse:
    provider = _provider(code)
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[NEXT_KEY] = target
    try:
        return oidc.authorize_redirect(request, provider, callback_url(request, provider))
    except oidc.ProviderUnavailable as exc:
        sso.record_refusal(provider=provider, code="unavailable", detail=str(exc))
        return _refused(request, provider, str(sso.REFUSALS["unavailable"]), 503)


@never_cache
@require_GET
def sso_callback(request: HttpRequest, code: str) -> HttpResponse:
    provider = _provider(code)
    try:
        tokens = oidc.complete_authorization(request, provider)
    except oidc.TokenRefused as exc:
        sso.record_refusal(provider=provider, code="invalid_response", detail=str(exc))
        return _refused(request, provider, str(sso.REFUSALS["invalid_response"]), 403)
    except oidc.ProviderUnavailable as exc:
        sso.record_refusal(provider=provider, code="unavailable", detail=str(exc))
        return _refused(request, provider, str(sso.REFUSALS["unavailable"]), 503)
    try:
        result = sso.sign_in(provider=provider, tokens=tokens)
    except sso.SignInRefused as exc:
        sso.record_refusal(provider=provider, code=exc.code, claims=tokens.claims)
        return _refused(request, provider, exc.message, 403)
    target = request.session.pop(NEXT_KEY, "") or reverse("admin:index")
    login(request, result.user, backend="agencies.backends.MemberBackend")
    sso.start_session(request.session, result, tokens)
    return redirect(target)
