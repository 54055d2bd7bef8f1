"""Upload handling for evidence: to disk as it arrives, never past the limit.

Django's default handlers keep small files in memory and accept any size;
here every file goes straight to a temporary file, and reading stops one
chunk past EVIDENCE_MAX_UPLOAD_SIZE, so a 10 GB body neither fills memory
nor the temporary disk before the service gets a chance to refuse it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler


class EvidenceUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > settings.EVIDENCE_MAX_UPLOAD_SIZE:
            # The view reads this flag to answer "too large" rather than "no file".
            if self.request is not None:
                self.request.evidence_upload_too_large = True
            raise SkipFile()
        return super().receive_data_chunk(raw_data, start)
