"""Why a file cannot become a document, one exception class per condition.

Every reader raises a subclass of :class:`IngestError`; the pipeline turns it into one
``Failure(source, reason, code)`` line and carries on with the other files. ``code`` is a
stable word a script can match on ("unsupported_type", "needs_ocr", ...); the message is
for people and says what to do where there is something to do.
"""

from __future__ import annotations

__all__ = [
    "CorruptFile",
    "DuplicateRecord",
    "EncryptedFile",
    "IngestError",
    "InvalidRecord",
    "NeedsOCR",
    "NotARegularFile",
    "OutsideFolder",
    "TooLarge",
    "UnsafeFile",
    "UnsupportedType",
]


class IngestError(ValueError):
    """A file or record cannot become a document; the message says why."""

    code = "invalid"


class UnsupportedType(IngestError):
    """The content is not what the name says (a ``.pdf`` that is HTML), or no reader takes it."""

    code = "unsupported_type"


class CorruptFile(IngestError):
    """The file claims a format but is damaged: a truncated PDF, a zip without its directory."""

    code = "corrupt"


class UnsafeFile(IngestError):
    """Reading the file could exhaust the machine or reach outside it (zip bombs, XML entities)."""

    code = "unsafe"


class TooLarge(IngestError):
    """The file is larger than any policy document should be."""

    code = "too_large"


class EncryptedFile(IngestError):
    """The file needs a password to open."""

    code = "encrypted"


class NeedsOCR(IngestError):
    """A PDF (or some of its pages) is only pictures of text: there is no text layer to read."""

    code = "needs_ocr"


class InvalidRecord(IngestError):
    """A JSONL or CSV record whose fields have the wrong types (a text that is a number)."""

    code = "invalid_record"


class DuplicateRecord(IngestError):
    """A second record of the same file with an id already used: it would replace the first."""

    code = "duplicate_id"


class OutsideFolder(IngestError):
    """A link (or a manifest entry) that leads out of the folder being ingested."""

    code = "outside_folder"


class NotARegularFile(IngestError):
    """A named pipe, socket, device or a link that leads nowhere: nothing to read as a document."""

    code = "not_a_file"
