"""Run every benchmark: `python -m benchmarks [NAME ...]` (`make bench`).

Each module ``benchmarks/bench_<name>.py`` exposes ``run() -> None`` that prints
its figures; this runner imports them in name order and prints a header per
module. Give names (``orientation``) to run only those. A benchmark that fails
is reported and the others still run; the exit code is then 1.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def bench_modules() -> list[str]:
    """Names of the benchmark modules, ``bench_*``, sorted."""
    here = str(Path(__file__).parent)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    failed = []
    for name in bench_modules():
        if wanted and name.removeprefix("bench_") not in wanted and name not in wanted:
            continue
        print(f"\n== {name.removeprefix('bench_')} ==", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").run()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"-- {name} took {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
