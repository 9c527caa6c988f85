"""Write the golden wire of dialects golden_wire.json does not hold yet (never rewrites one it holds).

    python tests/mock_okta/make_golden.py            # add the missing dialects
    python tests/mock_okta/make_golden.py DIALECT    # rewrite DIALECT (after reviewing the change)

Every request it writes must then be reviewed against idp-wire.md before it is committed
(test_golden_every_action.py explains why the file is the reference).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

from conftest import FakeScim  # noqa: E402
from test_golden_every_action import GOLDEN, script  # noqa: E402

from mock_okta import DIALECTS  # noqa: E402


def main(argv: list[str]) -> int:
    golden = json.loads(GOLDEN.read_text())
    unknown = [d for d in argv if d not in DIALECTS]
    if unknown:
        print(f"unknown dialect(s): {', '.join(unknown)}; choose among {', '.join(DIALECTS)}", file=sys.stderr)
        return 2
    todo = argv or [d for d in DIALECTS if d not in golden]
    for dialect in todo:
        golden[dialect] = script(FakeScim(), dialect)
    GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {', '.join(todo) or 'nothing (every dialect is there)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
