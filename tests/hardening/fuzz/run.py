"""Run one fuzz target under atheris (libFuzzer, coverage-guided).

    python -m tests.hardening.fuzz.run TARGET [--seconds N | --runs N] [--seed N]

The seed corpus (seeds/TARGET, committed) is read; new interesting inputs go to
build/fuzz/corpus/TARGET so later runs start from them; a crashing input is written to
build/fuzz/crashes/ and the process exits non-zero. Turn a crash into a regression test by
copying the file to regressions/TARGET/<short-name> (see regressions/README.md).
Exit codes: 0 no crash, 1 a crash (or a timeout / out-of-memory), 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# Modules instrumented for coverage, per target: ours always, plus the third-party parser
# that the target mostly exercises.
INSTRUMENT = {
    "pdf": ["ohvault", "pdfplumber", "pdfminer"],
    "header": ["ohvault"],
    "bundle": ["ohvault"],
    "sync": ["ohvault", "httpx", "json"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hardening.fuzz.run")
    parser.add_argument("target", choices=sorted(INSTRUMENT))
    parser.add_argument("--seconds", type=int, help="stop after this long (default 60)")
    parser.add_argument("--runs", type=int, help="stop after this many inputs")
    parser.add_argument("--seed", type=int, default=0, help="libFuzzer's random seed (0: random)")
    parser.add_argument("--no-save", action="store_true", help="do not grow build/fuzz/corpus")
    args = parser.parse_args(argv)

    import logging

    import atheris

    # pdfminer logs a warning for every oddity in a mutated PDF: noise at thousands a second.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    with atheris.instrument_imports(include=INSTRUMENT[args.target]):
        from tests.hardening.fuzz import targets

        targets.warm_up(args.target)
    target = targets.TARGETS[args.target]

    work = ROOT / "build" / "fuzz"
    crashes = work / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    corpora = [str(HERE / "seeds" / args.target)]
    if not args.no_save:
        grown = work / "corpus" / args.target
        grown.mkdir(parents=True, exist_ok=True)
        corpora.insert(0, str(grown))  # libFuzzer writes new inputs into the first directory
    else:
        corpora.insert(0, str(_scratch()))
    libfuzzer = [
        sys.argv[0],
        f"-artifact_prefix={crashes}/{args.target}-",
        "-timeout=20",  # one input taking longer is a hang: a bug too
        "-rss_limit_mb=3072",
        "-max_len=262144",
        f"-seed={args.seed}",
        "-print_final_stats=1",
    ]
    if args.runs is not None:
        libfuzzer.append(f"-runs={args.runs}")
    else:
        libfuzzer.append(f"-max_total_time={args.seconds or 60}")
    atheris.Setup(libfuzzer + corpora, target)
    atheris.Fuzz()  # exits the process: 0 when the time or run budget is used up
    return 0


def _scratch() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ohvault-fuzz-"))
    os.chmod(path, 0o700)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
