"""`{% network_graph_strings as strings %}`: what the network view's script
shows, translated into the reader's language, for `json_script` (the script
holds no text of its own)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from cases.choices import (
    EntityKind,
    GraphKind,
    HandlingCode,
    IdentifierKind,
    LinkKind,
    PersonRole,
)

register = template.Library()


def _labels(choices: type) -> dict[str, str]:
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
        "agency": _("Agency"),
        "kind": _("Kind"),
        "role": _("Role"),
        "handling_code": _("Handling"),
        "transactions": _("%(count)s × %(total)s %(currency)s"),  # noqa: RUF001 (times)
        "saved": _("Saved as %(file)s."),
    }
