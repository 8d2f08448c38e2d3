"""Kill ``policykb ingest`` and ``policykb build`` with SIGKILL at random moments and check
that nothing is lost.

After each kill: the knowledge base opens, ``PRAGMA integrity_check`` is ok, no document
is partial, duplicated or different from an uncrashed run's copy, and ``index/CURRENT``
names a whole generation (every file as its manifest says) or none. After the last kill one
uninterrupted run must reach the same content (and, for a build, the same index) as a run
that never crashed. CI runs a few kills (``tests/reliability/test_crash.py``); the long run
is one command::

    .venv/bin/python -m tests.reliability.crash --kills 50

It prints the figures: kills, kills that landed mid-run (the process had the knowledge base
open when it died), integrity checks passed, and whether the digests came out equal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.kbstate import Findings, check, content_digest, document_digests, index_digest

REPO = Path(__file__).resolve().parents[2]
LAWS = REPO.parent / "shared" / "corpus" / "laws" / "laws.jsonl"
RUN_TIMEOUT_S = 600
NUMERALS = "一二三四五六七八九十"
#: Words for generated records when the shared laws are absent.
WORDS = ("用人单位", "劳动者", "社会保险", "住房公积金", "应当", "依法", "缴纳", "申请", "办理", "登记", "机关",
         "审核", "发放", "补贴", "标准", "本市", "户籍", "居民", "医疗", "保障", "失业", "养老", "提取", "合同")


def write_corpus(path: Path, documents: int, *, seed: int = 7) -> str:
    """``documents`` law records as JSONL at ``path``: the first ones of the shared laws when
    present, else generated regulations with 第X章/第X条; returns which."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if LAWS.exists():
        with LAWS.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as out:
            for _ in range(documents):
                line = source.readline()
                if not line:
                    break
                out.write(line)
        return f"{documents} laws from {LAWS.relative_to(REPO.parent)}"
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(documents):
            chapters = []
            for chapter in range(rng.randint(2, 5)):
                articles = []
                for article in range(rng.randint(5, 15)):
                    sentence = "，".join("".join(rng.choices(WORDS, k=rng.randint(3, 8))) for _ in range(rng.randint(2, 6)))
                    articles.append(f"第{_numeral(chapter * 20 + article + 1)}条 {sentence}。")
                chapters.append(f"第{NUMERALS[chapter]}章 总则\n\n" + "\n\n".join(articles))
            record = {"id": f"generated-{number:05d}", "title": f"生成条例{number}", "publish": "2020-01-01",
                      "text": "\n\n".join(chapters)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return f"{documents} generated regulations (the shared laws are absent)"


def _numeral(value: int) -> str:
    tens, ones = divmod(value, 10)
    return (("" if tens == 1 else NUMERALS[tens - 1]) + "十" if tens else "") + (NUMERALS[ones - 1] if ones else "")


@dataclass
class Figures:
    """What one scenario found."""

    scenario: str
    kills: int = 0
    mid_run: int = 0
    finished_first: int = 0
    integrity_ok: int = 0
    problems: list[str] = field(default_factory=list)
    digest_equal: bool | None = None
    index_equal: bool | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.digest_equal is True and self.index_equal is not False

    def line(self) -> str:
        index = "" if self.index_equal is None else f", index digest equal: {self.index_equal}"
        return (f"{self.scenario}: {self.kills} kills, {self.mid_run} mid-run, {self.finished_first} finished before "
                f"the kill, integrity and invariants ok after {self.integrity_ok} of {self.kills}, final content "
                f"digest equal: {self.digest_equal}{index}, {len(self.problems)} problems, {self.seconds:.0f} s")


def _command(arguments: list[str]) -> list[str]:
    return [sys.executable, "-m", "policykb", *arguments]


def run(arguments: list[str], kb_dir: Path, log: Path) -> float:
    """Run a policykb command over ``kb_dir`` to its end; fail loudly if it fails. Returns how
    long it worked: while it held the knowledge base open (start-up and exit left out)."""
    with log.open("ab") as out:
        process = subprocess.Popen(_command(arguments), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        opened = _wait_until_open(process, kb_dir, timeout=RUN_TIMEOUT_S) or time.monotonic()
        closed = None
        while process.poll() is None:
            if closed is None and not _holds_kb_open(process.pid, kb_dir):
                closed = time.monotonic()
            time.sleep(0.01)
    if process.returncode != 0:
        raise RuntimeError(f"policykb {' '.join(arguments)} exited {process.returncode}; see {log}")
    return (closed or time.monotonic()) - opened


def _wait_until_open(process: subprocess.Popen, kb_dir: Path, *, timeout: float) -> float | None:
    """Poll until ``process`` has a file of ``kb_dir`` open; the monotonic time it was seen
    open, or None if it exited first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if _holds_kb_open(process.pid, kb_dir):
            return time.monotonic()
        time.sleep(0.01)
    return None


def _holds_kb_open(pid: int, kb_dir: Path) -> bool:
    """Whether process ``pid`` has a file of ``kb_dir`` open (it is inside its work)."""
    inside = str(kb_dir.resolve()) + os.sep
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(inside):
                    return True
            except OSError:
                continue
    except OSError:
        return False
    return False


def killed_run(arguments: list[str], kb_dir: Path, delay: float, log: Path) -> tuple[bool, bool]:
    """Start a policykb command, wait until it has opened the knowledge base, and SIGKILL it
    (with its worker processes) ``delay`` seconds later.

    Returns (killed, mid_run): whether it was still running, and whether it still had the
    knowledge base open when it died.
    """
    with log.open("ab") as out:
        process = subprocess.Popen(_command(arguments), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            _wait_until_open(process, kb_dir, timeout=RUN_TIMEOUT_S)
            process.wait(timeout=delay)
            return False, False
        except subprocess.TimeoutExpired:
            pass
        mid_run = _holds_kb_open(process.pid, kb_dir)
        os.killpg(process.pid, signal.SIGKILL)  # its own group: the process and its tokenising workers
        process.wait()
        _reap_group(process.pid)
        return True, mid_run


def _reap_group(pgid: int) -> None:
    """Wait until no process of the killed group is left (forked workers die with it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _attempts(figures: Figures, kills: int) -> Iterator[int]:
    """Attempt numbers until ``kills`` runs were killed (a run may end before its kill
    comes), at most three times as many."""
    for number in range(1, 3 * kills + 1):
        if figures.kills >= kills:
            return
        yield number


def _moment(rng: random.Random, duration: float) -> float:
    """When to kill, after the knowledge base was opened: anywhere in an uncrashed run's work."""
    return rng.uniform(0, duration)


def _after_kill(figures: Figures, kb_dir: Path, reference: dict[str, str], number: int) -> None:
    findings: Findings = check(kb_dir, reference=reference)
    if findings.ok:
        figures.integrity_ok += 1
    else:
        figures.problems.extend(f"kill {number}: {problem}" for problem in findings.problems)


def crash_ingest(work: Path, corpus: Path, kills: int, rng: random.Random, *, fresh_every: int = 5) -> Figures:
    """SIGKILL ``policykb ingest --no-build`` ``kills`` times, then ingest once uninterrupted.

    Each run goes on from what the killed one left (as an operator would run it again); every
    ``fresh_every`` kills, or once everything is in, the knowledge base starts empty again so
    that kills keep landing among the writes."""
    figures = Figures("ingest")
    started = time.monotonic()
    log = work / "ingest.log"
    reference_dir = work / "ingest-reference"
    duration = run(["ingest", str(corpus), "--kb", str(reference_dir), "--no-build"], reference_dir, log)
    reference = document_digests(reference_dir)
    expected = content_digest(reference_dir)
    kb_dir = work / "ingest-crashed"
    since_fresh = 0
    for number in _attempts(figures, kills):
        if kb_dir.exists() and (since_fresh == fresh_every or content_digest(kb_dir) == expected):
            shutil.rmtree(kb_dir)
            since_fresh = 0
        killed, mid_run = killed_run(["ingest", str(corpus), "--kb", str(kb_dir), "--no-build"], kb_dir,
                                     _moment(rng, duration), log)
        figures.kills += killed
        since_fresh += killed
        figures.finished_first += not killed
        figures.mid_run += mid_run
        if killed:
            _after_kill(figures, kb_dir, reference, number)
    run(["ingest", str(corpus), "--kb", str(kb_dir), "--no-build"], kb_dir, log)
    final = check(kb_dir, reference=reference)
    figures.problems.extend(f"final: {problem}" for problem in final.problems)
    figures.digest_equal = content_digest(kb_dir) == expected
    figures.seconds = time.monotonic() - started
    return figures


def crash_build(work: Path, stored: Path, kills: int, rng: random.Random, *, fresh_every: int = 10) -> Figures:
    """SIGKILL ``policykb build`` ``kills`` times over a copy of ``stored``, then build once
    uninterrupted; compare with a build that never crashed.

    The first build of a knowledge base trains its model and is slow; a rebuild reuses the
    model and switches ``CURRENT`` away from a served generation. Kills land in both: each
    run's kill moment is drawn from the uncrashed duration of its own kind; a first build
    that was killed is run again to its end (the restart must complete it), and every
    ``fresh_every`` kills the knowledge base starts again from the stored copy.
    """
    figures = Figures("build")
    started = time.monotonic()
    log = work / "build.log"
    reference_dir = work / "build-reference"
    shutil.copytree(stored, reference_dir)
    first = run(["build", "--kb", str(reference_dir)], reference_dir, log)
    again = run(["build", "--kb", str(reference_dir)], reference_dir, log)
    reference = document_digests(reference_dir)
    expected, expected_index = content_digest(reference_dir), index_digest(reference_dir)
    kb_dir = work / "build-crashed"
    shutil.copytree(stored, kb_dir)
    since_fresh = 0
    for number in _attempts(figures, kills):
        if since_fresh == fresh_every:
            shutil.rmtree(kb_dir)
            shutil.copytree(stored, kb_dir)
            since_fresh = 0
        built = (kb_dir / "index" / "CURRENT").exists()
        killed, mid_run = killed_run(["build", "--kb", str(kb_dir)], kb_dir,
                                     _moment(rng, again if built else first), log)
        figures.kills += killed
        since_fresh += killed
        figures.finished_first += not killed
        figures.mid_run += mid_run
        if killed:
            _after_kill(figures, kb_dir, reference, number)
            if not built:  # the restart completes what the kill interrupted
                run(["build", "--kb", str(kb_dir)], kb_dir, log)
                figures.problems.extend(f"kill {number}, after the restart: {problem}"
                                        for problem in check(kb_dir, reference=reference).problems)
    run(["build", "--kb", str(kb_dir)], kb_dir, log)
    final = check(kb_dir, reference=reference)
    figures.problems.extend(f"final: {problem}" for problem in final.problems)
    leftovers = sorted(p.name for p in (kb_dir / "index").glob("*.building"))
    if leftovers:
        figures.problems.append(f"final: unfinished generations left behind: {leftovers}")
    figures.problems.extend(f"final: {problem}" for problem in _loads(kb_dir))
    figures.digest_equal = content_digest(kb_dir) == expected
    figures.index_equal = index_digest(kb_dir) == expected_index
    figures.seconds = time.monotonic() - started
    return figures


def _loads(kb_dir: Path) -> list[str]:
    """The served generation loads, verified, with its embedding model (not degraded)."""
    from kb.index import load_index

    try:
        loaded = load_index(kb_dir)
    except Exception as error:  # noqa: BLE001 - reported as a finding
        return [f"the index does not load: {type(error).__name__}: {error}"]
    return [f"the index loads degraded: {loaded.degraded}"] if loaded.degraded else []


def crash_all(work: Path, *, kills: int, documents: int, build_documents: int, seed: int,
              scenarios: tuple[str, ...] = ("ingest", "build")) -> tuple[str, list[Figures]]:
    """Both scenarios in ``work``; returns the corpus description and the figures."""
    rng = random.Random(seed)
    corpus = work / "corpus" / "laws.jsonl"
    described = write_corpus(corpus, documents)
    results = []
    if "ingest" in scenarios:
        results.append(crash_ingest(work, corpus, kills, rng))
    if "build" in scenarios:
        build_corpus = work / "corpus-build" / "laws.jsonl"
        write_corpus(build_corpus, build_documents)
        stored = work / "build-source"
        run(["ingest", str(build_corpus), "--kb", str(stored), "--no-build"], stored, work / "build.log")
        results.append(crash_build(work, stored, kills, rng))
    return described, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs per scenario (default 50)")
    parser.add_argument("--documents", type=int, default=300, help="law records ingested (default 300)")
    parser.add_argument("--build-documents", type=int, default=60, help="law records in the rebuilt KB (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the kill times (default: random)")
    parser.add_argument("--scenario", choices=["ingest", "build", "both"], default="both")
    parser.add_argument("--work", type=Path, default=None, help="keep the knowledge bases and logs here")
    arguments = parser.parse_args(argv)
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    scenarios = ("ingest", "build") if arguments.scenario == "both" else (arguments.scenario,)
    work = arguments.work or Path(tempfile.mkdtemp(prefix="policykb-crash-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"seed {seed}; working in {work}", flush=True)
    described, results = crash_all(work, kills=arguments.kills, documents=arguments.documents,
                                   build_documents=arguments.build_documents, seed=seed, scenarios=scenarios)
    print(f"corpus: {described}")
    for figures in results:
        print(figures.line())
        for problem in figures.problems[:20]:
            print(f"  {problem}")
    if arguments.work is None and all(f.ok for f in results):
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(f.ok for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
