"""Case-domain models, one module per concept."""

from .case import Case, CaseGroupObjectPermission, CaseParticipation, CaseSequence, CaseTombstone
from .document import CustodyEvent, Document
from .handling import HandlingMixin
from .identifier import ContactRequest, Identifier, RecordedValue
from .mla import MLARequest, MLARequestGroupObjectPermission, MLAStatusChange
from .network import Asset, AssetStateChange, Entity, Link, Transaction
from .note import Note
from .proposal import ShareProposal
from .task import Task, TaskLogEntry
from .upload import EvidenceUpload

__all__ = [
    "Asset",
    "AssetStateChange",
    "Case",
    "CaseGroupObjectPermission",
    "CaseParticipation",
    "CaseSequence",
    "CaseTombstone",
    "ContactRequest",
    "CustodyEvent",
    "Document",
    "Entity",
    "EvidenceUpload",
    "HandlingMixin",
    "Identifier",
    "Link",
    "MLARequest",
    "MLARequestGroupObjectPermission",
    "MLAStatusChange",
    "Note",
    "RecordedValue",
    "ShareProposal",
    "Task",
    "TaskLogEntry",
    "Transaction",
]
