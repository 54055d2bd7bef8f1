"""`{% network_graph_strings as strings %}`: what the network view's script
shows, translated into the reader's language, for `json_script` (the script
holds no text of its own)."""

from __future__ import annotations

from django import template
from django.db import models
from django.utils.translation import gettext as _

from cases.choices import (
    EntityKind,
    GraphKind,
    HandlingCode,
    IdentifierKind,
    LinkKind,
    PersonRole,
)
from cases.networks import MONEY_IDENTIFIER_KINDS

register = template.Library()


def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices.choices}


@register.simple_tag
def network_graph_kinds() -> list[tuple[str, str]]:
    """The filters, in the order the view offers them."""
    return [(str(value), str(label)) for value, label in GraphKind.choices]


@register.simple_tag
def network_graph_strings() -> dict[str, object]:
    return {
        "kinds": _labels(GraphKind),
        "entity_kinds": _labels(EntityKind),
        "identifier_kinds": _labels(IdentifierKind),
        "link_kinds": _labels(LinkKind),
        "roles": _labels(PersonRole),
        "handling": _labels(HandlingCode),
        "case": _("Case"),
        "held_in": _("also held in"),
        "loading": _("Loading the network…"),
        "failed": _("The network could not be loaded. Open the tab again."),
        "empty": _("Nothing on this case that you may see yet."),
        "shown": _("Nodes shown: %(nodes)s; edges: %(edges)s."),
        "pick": _("Click a node to see it and to expand it."),
        "selected": _("Selected: %(label)s"),
        "expanding": _("Looking one hop further…"),
        "expanded": _("Nodes added: %(nodes)s; edges: %(edges)s."),
        "nothing_more": _("Nothing more that you may see from this node."),
        "not_expandable": _("A case cannot be expanded: open it instead."),
        "other_case": _("Recorded on another case"),
        "more_cases": _("Held on more cases than are drawn (the newest five are)"),
        "truncated": _(
            "Only the busiest money edges are drawn (most transactions first): expand an "
            "account or a wallet to see its own."
        ),
        "agency": _("Agency"),
        "kind": _("Kind"),
        "role": _("Role"),
        "handling_code": _("Handling"),
        "transactions": _("%(count)s × %(total)s %(currency)s"),  # noqa: RUF001 (times)
        "saved": _("Saved as %(file)s."),
    }


@register.simple_tag
def network_flow_strings() -> dict[str, object]:
    """What the flow view's script (cases/static/cases/flow.js) shows."""
    return {
        "identifier_kinds": _labels(IdentifierKind),
        "money_kinds": [str(kind) for kind in MONEY_IDENTIFIER_KINDS],
        "pick": _("Select an account or a wallet in the picture to follow its money."),
        "not_money": _("Money is followed from an account or a wallet only."),
        "ready": _("Follow the money from %(label)s."),
        "tracing": _("Following the money…"),
        "failed": _("The money could not be followed. Try again."),
        "traced": _("Accounts and wallets reached: %(nodes)s; transactions: %(edges)s."),
        "nothing": _("No money left this account or wallet that you may see."),
        "truncated": _("Only part of the flow is shown: there is more than the trace may read."),
        "transactions": _("%(count)s × %(total)s %(currency)s"),  # noqa: RUF001 (times)
        "origin": _("Start"),
        "path": _("Path %(number)s"),
        "no_paths": _("No path."),
        "holds": _("%(agency)s holds a match (recorded %(date)s)"),
        "at": _("at %(label)s"),
        "request": _("Request contact"),
        "requesting": _("Sending the request…"),
        "requested": _("Contact requested: %(agency)s has been asked to contact you."),
        "already": _("Contact has already been requested for this match."),
        "rate_limited": _("Too many requests: wait a minute and try again."),
        "refused": _("The request could not be sent."),
        "saved": _("Saved as %(file)s."),
    }
