"""Peak memory of a streamed evidence upload (issue 6: 1 GiB under 150 MiB RSS).

Streams a generated file of --size bytes (a PDF header, then pseudo-random
bytes produced on the fly, so the input itself takes no memory) through
`cases.documents.upload_document` into a temporary evidence storage, and
prints the process's peak RSS before and after. Everything it writes is
rolled back or removed afterwards. Needs a migrated database:

    DATABASE_URL=postgres://… SECRET_KEY=x python bench/upload_memory.py --size 1GiB
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

UNITS = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    lowered = text.strip().lower()
    for unit, factor in UNITS.items():
        if lowered.endswith(unit):
            return int(float(lowered[: -len(unit)]) * factor)
    return int(lowered)


class GeneratedFile(io.RawIOBase):
    """`size` bytes made as they are read: the upload's source costs nothing."""

    def __init__(self, size: int):
        self.remaining = size
        self.header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        self.random = random.Random(6)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        n = self.remaining if n is None or n < 0 else min(n, self.remaining)
        head, self.header = self.header[:n], self.header[n:]
        data = head + self.random.randbytes(n - len(head))
        self.remaining -= n
        return data


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1GiB", help="e.g. 64MiB, 1GiB (default 1GiB)")
    args = parser.parse_args()
    size = parse_size(args.size)

    from agencies import services as agency_services
    from agencies.choices import AgencyKind
    from cases import documents, services
    from gate.roles import Role

    with tempfile.TemporaryDirectory(prefix="cb-bench-") as media:
        settings.MEDIA_ROOT = media
        settings.EVIDENCE_MAX_UPLOAD_SIZE = size
        before = peak_rss_mib()
        with transaction.atomic():
            agency = agency_services.create_agency(
                code="BENCH-UP", name="Bench", country="KH", kind=AgencyKind.POLICE
            )
            user = agency_services.create_member(
                username="bench.uploader", agency=agency, role=Role.COORDINATOR
            ).user
            case = services.create_case(actor=user, title="Upload memory benchmark")
            started = time.monotonic()
            doc = documents.upload_document(
                actor=user, case=case, file=GeneratedFile(size), name="bench.pdf", title="bench"
            )
            elapsed = time.monotonic() - started
            assert doc.size == size, (doc.size, size)
            transaction.set_rollback(True)
    after = peak_rss_mib()
    print(f"uploaded {size / 1024**2:.0f} MiB in {elapsed:.1f}s, sha256 {doc.sha256[:16]}…")
    print(f"peak RSS before upload: {before:.1f} MiB")
    print(f"peak RSS after upload:  {after:.1f} MiB  (growth {after - before:.1f} MiB)")
    return 0 if after < 150 else 1


if __name__ == "__main__":
    sys.exit(main())
