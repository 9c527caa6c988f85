"""The long fuzz campaign against the mock, in-process:

    python fuzz/campaign.py --examples 20000 [--seed 1] [--chunk 2000]

Runs hypothesis-generated hostile requests (fuzz/strategies.py) through the oracle (fuzz/oracle.py)
and prints the figures: requests, status classes, accepted/rejected, request families. Exit 1 with
the falsifying request when an invariant breaks. CI runs the same code with a small budget
(tests/fuzz/test_fuzz_mock.py). Its socket phase, generated requests pipelined by slow readers against
the real program, is `python fuzz/slow_readers.py` (tests/fuzz/test_fuzz_slow_readers.py).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from fuzz.oracle import FuzzTarget, InvariantBroken, TOKENS, now, summary  # noqa: E402
from fuzz.strategies import fuzz_requests, paths_from_openapi  # noqa: E402

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.large_base_example]


def run(target: FuzzTarget, examples: int, seed_value: int | None, *, derandomize: bool = False) -> None:
    """Run `examples` generated requests against `target`; raises InvariantBroken on a violation."""
    doc = target.client.get("/_mock/openapi.json", headers={"Authorization": f"Bearer {TOKENS['admin']}"}).json()
    scim_paths, control_paths = paths_from_openapi(doc)

    @settings(max_examples=examples, deadline=None, suppress_health_check=HEALTH, derandomize=derandomize,
              database=None, print_blob=False)
    @given(req=fuzz_requests(TOKENS, scim_paths, control_paths))
    def one(req):  # type: ignore[no-untyped-def]
        target.check(req)

    if seed_value is not None and not derandomize:
        one = seed(seed_value)(one)
    one()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=20_000, help="generated requests in total (default 20000)")
    p.add_argument("--chunk", type=int, default=2_000, help="requests per hypothesis run (default 2000)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    args = p.parse_args(argv)
    target = FuzzTarget()
    t0 = now()
    done = 0
    try:
        while done < args.examples:
            n = min(args.chunk, args.examples - done)
            run(target, n, None if args.seed is None else args.seed + done)
            done += n
            print(f"... {target.stats['requests']} requests, no violation", flush=True)
    except InvariantBroken as exc:
        print(summary(target.stats, now() - t0))
        print(f"VIOLATION: {exc}", file=sys.stderr)
        return 1
    finally:
        target.close()
    print(summary(target.stats, now() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
