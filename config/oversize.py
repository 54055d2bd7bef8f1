"""A friendly page, not Django's technical one, for form posts that are too big.

Django refuses a form body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (or with too
many fields or files) by raising while the body is parsed, which happens
first in the CSRF middleware; the user then sees a technical 400 page (in
DEBUG, a traceback). This middleware, placed just before the CSRF one,
parses the form body itself and answers such a post with a translated page:
413 for too large, 400 for too many fields or files. Nothing is saved.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from config.admin_site import may_enter_admin

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class OversizePostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # Only posts the CSRF middleware would parse anyway: parsing them one
        # step earlier changes nothing for the view.
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        if request.content_type not in _FORM_TYPES:
            return None
        try:
            request.POST  # noqa: B018 (parses the body, with the configured upload handlers)
        except RequestDataTooBig:
            mib = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
            message = gettext(
                "What you sent is larger than the %(mib).1f MB a form accepts. Nothing was "
                "saved. Shorten the text (long material belongs in an evidence file) and "
                "send it again."
            ) % {"mib": mib}
            return too_large_page(request, message, status=413)
        except (TooManyFieldsSent, TooManyFilesSent):
            message = gettext(
                "What you sent has more fields or files than a form accepts. Nothing was saved."
            )
            return too_large_page(request, message, status=400)
        return None


def too_large_page(request: HttpRequest, message: str, *, status: int) -> TemplateResponse:
    """The refusal, in the admin's look for members, with a way back to the form."""
    context = {"title": gettext("Not sent"), "message": message}
    if may_enter_admin(getattr(request, "user", None)):
        context.update(admin.site.each_context(request))
    back = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        context["back_url"] = back
    response = TemplateResponse(
        request, "casebridge/request_too_large.html", context, status=status
    )
    response["Cache-Control"] = "no-store"
    return response
