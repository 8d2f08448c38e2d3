"""Exceptions named after the condition; the ``policykb eval`` command turns each into one clean line."""


class EvaluationError(Exception):
    """Base class of every error evaluation raises on purpose."""


class SetFormatError(EvaluationError, ValueError):
    """A question set file is missing, malformed, or contradicts itself (e.g. a query id twice)."""


class UnknownConfiguration(EvaluationError, ValueError):
    """A configuration name is not one of baseline, bm25, dense, hybrid or hybrid-rrfN."""
