"""What an evidence file is, judged by its bytes, checked against its name.

The name is the uploader's claim; the bytes are the fact. A file is taken
only when the two agree and the type is on EVIDENCE_ALLOWED_TYPES, and never
when the bytes are a program, whatever the name says (an `.exe` renamed
`.pdf` is the classic way to get malware opened on an analyst's machine).
Detection is `filetype` (pure Python, magic numbers); plain text, CSV and
JSON have no magic number and are recognised as clean UTF-8 text instead.
"""

from __future__ import annotations

import codecs

import filetype
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gate.errors import ValidationFailed

SNIFF_BYTES = 8192
TEXT = "text/plain"
OLE = "application/x-ole-storage"  # legacy Office container, before the specific type
ZIP = "application/zip"
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

# Extension -> (canonical type, byte-detected types accepted for it). Generic
# detections (a ZIP for .docx, OLE for .doc, text for .csv) are accepted and
# stored as the canonical type; specific ones are stored as detected.
EXTENSIONS: dict[str, tuple[str, set[str]]] = {
    "pdf": ("application/pdf", {"application/pdf"}),
    "jpg": ("image/jpeg", {"image/jpeg"}),
    "jpeg": ("image/jpeg", {"image/jpeg"}),
    "png": ("image/png", {"image/png"}),
    "gif": ("image/gif", {"image/gif"}),
    "tif": ("image/tiff", {"image/tiff"}),
    "tiff": ("image/tiff", {"image/tiff"}),
    "webp": ("image/webp", {"image/webp"}),
    "bmp": ("image/bmp", {"image/bmp"}),
    "heic": ("image/heic", {"image/heic"}),
    "doc": ("application/msword", {"application/msword", OLE}),
    "xls": ("application/vnd.ms-excel", {"application/vnd.ms-excel", OLE}),
    "ppt": ("application/vnd.ms-powerpoint", {"application/vnd.ms-powerpoint", OLE}),
    "docx": (_OOXML + "wordprocessingml.document", {_OOXML + "wordprocessingml.document", ZIP}),
    "xlsx": (_OOXML + "spreadsheetml.sheet", {_OOXML + "spreadsheetml.sheet", ZIP}),
    "pptx": (
        _OOXML + "presentationml.presentation",
        {_OOXML + "presentationml.presentation", ZIP},
    ),
    "odt": (_ODF + "text", {_ODF + "text", ZIP}),
    "ods": (_ODF + "spreadsheet", {_ODF + "spreadsheet", ZIP}),
    "odp": (_ODF + "presentation", {_ODF + "presentation", ZIP}),
    "rtf": ("application/rtf", {"application/rtf"}),
    "txt": (TEXT, {TEXT}),
    "log": (TEXT, {TEXT}),
    "csv": ("text/csv", {TEXT}),
    "json": ("application/json", {TEXT}),
    "zip": (ZIP, {ZIP}),
    "mp3": ("audio/mpeg", {"audio/mpeg"}),
    "wav": ("audio/x-wav", {"audio/x-wav"}),
    "ogg": ("audio/ogg", {"audio/ogg"}),
    "flac": ("audio/x-flac", {"audio/x-flac"}),
    "m4a": ("audio/mp4", {"audio/mp4", "video/mp4"}),
    "aac": ("audio/aac", {"audio/aac"}),
    "amr": ("audio/amr", {"audio/amr"}),
    "mp4": ("video/mp4", {"video/mp4", "video/x-m4v"}),
    "mov": ("video/quicktime", {"video/quicktime"}),
    "avi": ("video/x-msvideo", {"video/x-msvideo"}),
    "mkv": ("video/x-matroska", {"video/x-matroska"}),
    "webm": ("video/webm", {"video/webm"}),
    "3gp": ("video/3gpp", {"video/3gpp"}),
}
GENERIC = {TEXT, OLE, ZIP}

# Programs, whatever they are called: PE (MZ), ELF, Mach-O (both byte orders,
# fat binaries), scripts with an interpreter line.
EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
EXECUTABLE_TYPES = {"application/x-msdownload", "application/x-executable", "application/wasm"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}


def _is_text(head: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(head, final=False)  # a character cut at the sniff edge is fine
    except UnicodeDecodeError:
        return False
    return not any(ord(ch) in _TEXT_CONTROLS for ch in text)


def sniff(head: bytes) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head.startswith(_OLE_MAGIC):
        return OLE
    if _is_text(head):
        return TEXT
    return None


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def check(head: bytes, name: str) -> str:
    """The content type to store for a file starting with `head` named `name`.

    Raises ValidationFailed (on `file`) when the bytes are a program, the type
    is not allowed, or the name claims something the bytes are not.
    """
    detected = sniff(head)
    if head.startswith(EXECUTABLE_MAGIC) or detected in EXECUTABLE_TYPES:
        raise ValidationFailed({"file": [_("Executable files are not accepted as evidence.")]})
    ext = extension_of(name)
    if ext not in EXTENSIONS:
        raise ValidationFailed(
            {"file": [_("Files named “.%(ext)s” are not accepted.") % {"ext": ext or "?"}]}
        )
    canonical, accepted = EXTENSIONS[ext]
    if detected not in accepted:
        raise ValidationFailed(
            {
                "file": [
                    _("The file's content (%(actual)s) does not match its name (.%(ext)s).")
                    % {"actual": detected or _("unknown"), "ext": ext}
                ]
            }
        )
    if ext == "json" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        raise ValidationFailed({"file": [_("The file's content is not JSON.")]})
    content_type = canonical if detected in GENERIC else detected
    if content_type not in settings.EVIDENCE_ALLOWED_TYPES:
        raise ValidationFailed(
            {"file": [_("Files of type %(type)s are not accepted.") % {"type": content_type}]}
        )
    return content_type
