"""Server-rendered pages of MLA requests: the letter of request, as HTML and PDF.

Both render `cases.mla_letter.letter_of`. Gated like every read: a
non-party, and the requested side on a draft, get 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from . import access
from .mla_letter import letter_of
from .models import MLARequest


def _request_for(user, public_id) -> MLARequest:
    request = (
        access.visible_mla_requests(user)
        .select_related("requesting_agency", "requested_agency", "case")
        .filter(public_id=public_id)
        .first()
    )
    if request is None:
        raise Http404()
    return request


@login_required
def mla_request_letter(request: HttpRequest, public_id) -> HttpResponse:
    """The request as a printable letter, in the request's language."""
    mla = _request_for(request.user, public_id)
    # The link above the letter is the reader's; the letter is in the request's language.
    pdf_label = _("Download as PDF")
    with translation.override(mla.language):
        context = {
            "letter": letter_of(mla),
            "mla": mla,
            "pdf_url": reverse("mla-request-letter-pdf", args=[mla.public_id]),
            "pdf_label": pdf_label,
        }
        body = render_to_string("cases/mla/letter.html", context, request=request)
    response = HttpResponse(body)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = mla.language
    return response


@login_required
def mla_request_letter_pdf(request: HttpRequest, public_id) -> HttpResponse:
    """The same letter as a PDF file, with the shipped Khmer and Korean fonts."""
    # Deferred: fpdf2 is large, and only this download needs it in a web process.
    from .mla_pdf import letter_pdf

    mla = _request_for(request.user, public_id)
    with translation.override(mla.language):
        content = letter_pdf(letter_of(mla))
    name = f"letter-of-request-{mla.requesting_reference or mla.public_id}.pdf"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["Cache-Control"] = "no-store"
    return response
