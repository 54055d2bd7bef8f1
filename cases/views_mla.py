"""Server-rendered pages of MLA requests (the formal letter)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import access
from .choices import AssistanceType, LegalBasis
from .mla import COMPLETENESS, PRESERVATION_KEY


def _as_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@login_required
def mla_request_letter(request: HttpRequest, public_id) -> HttpResponse:
    """The request as a printable formal letter, in the UNODC MLA Request
    Writer's order of headings. Gated like every read: a non-party gets 404.
    """
    mla = (
        access.visible_mla_requests(request.user)
        .select_related("requesting_agency", "requested_agency", "case")
        .filter(public_id=public_id)
        .first()
    )
    if mla is None:
        raise Http404()
    labels = dict(AssistanceType.choices)
    specifics = []
    for key, values in (mla.details or {}).items():
        if not values:
            continue
        title = labels.get(key) or (key == PRESERVATION_KEY and "Preservation") or key
        known = [name for name, _msg in COMPLETENESS.get(key, [])]
        names = [n for n in known if n in values] + [k for k in values if k not in known]
        rows = [(name.replace("_", " "), _as_text(values[name])) for name in names]
        specifics.append((title, rows))
    context = {
        "mla": mla,
        "assistance_labels": [labels.get(t, t) for t in mla.assistance_types],
        "legal_basis_label": dict(LegalBasis.choices).get(mla.legal_basis, mla.legal_basis),
        "specifics": specifics,
    }
    response = render(request, "cases/mla/letter.html", context)
    response["Cache-Control"] = "no-store"
    return response
