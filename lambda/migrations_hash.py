"""Prints the MigrationsHash of lambda/migrations (see tap/migration_files.py
for the exact algorithm, which the TypeScript template generator mirrors).

Usage: python3 lambda/migrations_hash.py [MIGRATIONS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tap.migration_files import MIGRATIONS_DIR, migrations_hash


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else MIGRATIONS_DIR
    if not directory.is_dir():
        print(f"not a directory: {directory}", file=sys.stderr)
        return 2
    print(migrations_hash(directory))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
