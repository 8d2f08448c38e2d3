"""What can stop a benchmark run, each said in one line at the command's edge."""


class BenchError(Exception):
    """The benchmark cannot run as asked (no knowledge base, no questions, a server that never started)."""
