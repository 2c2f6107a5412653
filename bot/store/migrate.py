"""``python -m bot.store.migrate DB``: apply the pending migrations to the store file DB and exit.

What selfreg's start-up step "store schema" runs, in a child process, so that selfreg itself
never imports sqlite_utils (``bot/store/migration_names.py``). Exit 0, or 1 with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.errors import StoreError
from bot.store.db import open_store


def main(argv: list[str]) -> int:
    try:
        open_store(Path(argv[1])).close()
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
