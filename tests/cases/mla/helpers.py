"""Builders for MLA tests; the graph helpers read `cases.mla.TRANSITIONS`."""

from __future__ import annotations

from collections import deque

from cases import mla
from cases.choices import AssistanceType, LegalBasis, MLAStatus
from cases.models import MLARequest

COMPLETE_FULL = {
    "assistance_types": [AssistanceType.BANK_RECORDS, AssistanceType.WITNESS_STATEMENT],
    "details": {
        AssistanceType.BANK_RECORDS: {
            "account_identifiers": ["KH-ACLEDA-0012345678"],
            "bank_identifiers": ["ACLEDA Bank Plc (ACLBKHPP)"],
            "period_start": "2025-01-01",
            "period_end": "2025-06-30",
        },
        AssistanceType.WITNESS_STATEMENT: {
            "person": "Compound security guard known as 'Ah Long'",
            "questions": ["Who ran floor 3?", "Where were the phones kept?"],
        },
    },
    "facts": "Seoul victims defrauded by a fake crypto platform run from Sihanoukville.",
    "offences": "Fraud (Criminal Act art. 347), up to 10 years' imprisonment.",
    "assistance_sought": "Certified bank statements and a witness statement.",
    "persons_concerned": "Account KH-ACLEDA-0012345678",
    "contact_details": "Insp. Kim, +82 2 000 0000",
}


def draft(actor, case, requested_agency, **overrides) -> MLARequest:
    fields = {**COMPLETE_FULL, **overrides}
    fields.setdefault("legal_basis", LegalBasis.UNTOC)
    return mla.create_mla_request(
        actor=actor, case=case, requested_agency=requested_agency, **fields
    )


def path_to(state: str) -> list[str]:
    """The shortest sequence of verbs from draft to `state`, found in the table."""
    seen = {MLAStatus.DRAFT: []}
    queue = deque([MLAStatus.DRAFT])
    while queue:
        here = queue.popleft()
        for t in mla.TRANSITIONS.values():
            if here in t.sources and t.target not in seen:
                seen[t.target] = [*seen[here], t.verb]
                queue.append(t.target)
    return seen[state]


def reachable_states() -> list[str]:
    return [s for s in MLAStatus.values if _reachable(s)]


def _reachable(state: str) -> bool:
    try:
        path_to(state)
    except KeyError:
        return False
    return True


def drive(request: MLARequest, verbs: list[str], *, requesting, requested) -> MLARequest:
    """Take `verbs` in order, each by the coordinator of the side the table names."""
    for verb in verbs:
        t = mla.TRANSITIONS[verb]
        actor = requesting if t.side == "requesting" else requested
        request = mla.transition_mla_request(
            actor=actor, request=request, verb=verb, comment="Because the record says so."
        )
    return request
