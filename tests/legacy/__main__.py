"""``python -m tests.legacy PATH [SHAPE]``: write a legacy daemon database (default stamped-3)."""

from __future__ import annotations

import sys

from tests.legacy.builder import SHAPES, build


def main(argv: list[str]) -> int:
    if (
        not argv
        or argv[0] in ("-h", "--help")
        or len(argv) > 2
        or (len(argv) == 2 and argv[1] not in SHAPES)
    ):
        print("usage: python -m tests.legacy PATH [SHAPE]\nshapes:", file=sys.stderr)
        for name, (what, _) in SHAPES.items():
            print(f"  {name:12} {what}", file=sys.stderr)
        return 2
    shape = argv[1] if len(argv) == 2 else "stamped-3"
    path = build(argv[0], shape)
    print(f"{path}: built a legacy database ({shape}: {SHAPES[shape][0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
