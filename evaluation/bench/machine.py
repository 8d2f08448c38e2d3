"""Where and with what a run was measured: machine, versions and commit.

Figures from two runs only compare when these match (or the difference is the point), so
every result file carries them.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("policykb", "numpy", "scipy", "fastapi", "starlette", "uvicorn", "pydantic", "rank-bm25", "bm25s",
            "numba")
REPO = Path(__file__).resolve().parents[2]


def shown_path(path: Path | str) -> str:
    """``path`` as a kept result may name it: relative to the project (``../shared/...`` beside
    it), else only its last component. Results are kept in the repository and compared across
    machines; an absolute path says nothing there and names this machine's folders."""
    absolute = Path(os.path.abspath(path))  # links kept: ../shared may be a link to elsewhere
    for root, prefix in ((REPO, ""), (REPO.parent, "../")):
        if absolute.is_relative_to(root):
            return prefix + str(absolute.relative_to(root))
    return absolute.name


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def machine() -> dict[str, object]:
    """CPU count and model, memory, operating system and load at the start of the run."""
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load = None
    return {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "cpu_model": _cpu_model(),
            "memory_bytes": _memory_bytes(), "system": platform.platform(), "load_average": load}


def versions() -> dict[str, str | None]:
    """Python and the packages the figures depend on (None where not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_commit(repo: Path = REPO) -> dict[str, object]:
    """The commit measured and whether the working tree had changes beside it."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}
