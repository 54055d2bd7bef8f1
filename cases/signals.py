"""Hooks other parts of Casebridge attach to.

`document_integrity_failure` is sent (after commit) when a stored evidence
file no longer matches its SHA-256: the notification side connects a
receiver that alerts the custodians. Arguments: `document`, `actor` (or
None for a scheduled check), `expected`, `actual` (hex digests; `actual` is
"" when the file is missing).
"""

from django.dispatch import Signal

document_integrity_failure = Signal()
