"""`python -m dirigent.store.migrations`: migrate the database whose URL comes on stdin.

`migrate_in_child` runs this. Exit status 0: migrated; 1 with one line of JSON on stdout: this store
error (`error_report`); any other failure leaves its traceback on stderr.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from dirigent.errors import DirigentError
from dirigent.store.migrations import error_report, migrate


def main() -> int:
    # Ctrl-C reaches the parent too, which ends this process; here it would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(migrate(sys.stdin.read()))
    except DirigentError as error:
        print(error_report(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
