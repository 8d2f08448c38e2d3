"""Exceptions named after the condition; the CLI and the service turn them into one clean line."""


class KBError(Exception):
    """Base class of every error the knowledge base raises on purpose."""


class KnowledgeBaseNotFound(KBError):
    """The directory holds no knowledge base (nothing was ingested there yet)."""


class IndexNotBuilt(KBError):
    """The knowledge base has documents but no index generation to search."""


class IndexMismatch(KBError):
    """The index on disk was built with other settings, another format or is damaged."""


class DocumentNotFound(KBError, LookupError):
    """No document has the requested id."""


class SegmentNotFound(KBError, LookupError):
    """No segment has the requested id."""


class InvalidQuestion(KBError, ValueError):
    """The question cannot be searched: empty, only whitespace or too long."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidFilter(KBError, ValueError):
    """A search filter names an unknown status or has the wrong shape."""


class EmbeddingModelError(KBError):
    """The embedding model cannot be loaded or does not match the stored vectors."""


class BackendUnavailable(KBError):
    """The search backend the knowledge base is served from (a Milvus server) did not answer."""
