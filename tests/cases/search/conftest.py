"""Search fixtures: KR-KNP's case shared with KH-CCOS, one of each searchable
kind on it (each with a word of its own), and a RED note of KH-CCOS's."""

from dataclasses import dataclass

import pytest

from cases import services
from cases.deconfliction import add_identifier
from cases.models import Case, Document, Identifier, Note, Task
from tests.factories import make_document


@dataclass
class World:
    case: Case
    note: Note
    task: Task
    document: Document
    identifier: Identifier
    red_note: Note


#: A word found in one kind only, and the object it finds.
WORDS = {
    "case": "Sihanoukville",  # the case's title
    "note": "Seoul",  # the note's body
    "task": "USDT",  # the task's title
    "document": "Umber-Heron",  # the document's title
    "identifier": "hidden-compound",  # the identifier's value
}


@pytest.fixture
def world(shared_case, task, note, knp_coordinator, kh_investigator, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    document = make_document(knp_coordinator, shared_case)
    identifier = add_identifier(
        actor=knp_coordinator, case=shared_case, kind="email", value="boss@hidden-compound.example"
    )
    red_note = services.add_note(
        actor=kh_investigator,
        case=shared_case,
        body="Informant Kestrel-Red met the cashier in Bavet.",
        handling_code="RED",
    )
    return World(shared_case, note, task, document, identifier, red_note)
