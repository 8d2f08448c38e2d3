"""The composition root: the one `policykb` command that ties kb, ingest, service and evaluation together."""
