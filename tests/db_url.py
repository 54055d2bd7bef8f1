"""Print the database URL the test suite should use.

PostgreSQL whenever it is reachable; with CI=true an unreachable PostgreSQL
is an error, never a silent fallback to SQLite.
"""

import os
import socket
import sys

PG_URL = "postgres://postgres@127.0.0.1:5432/casebridge"


def main() -> int:
    if os.environ.get("DATABASE_URL"):
        print(os.environ["DATABASE_URL"])
        return 0
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        if os.environ.get("CI") == "true":
            print("PostgreSQL is not reachable on 127.0.0.1:5432 (CI=true).", file=sys.stderr)
            return 1
        print("sqlite:///casebridge-test.sqlite3")
        return 0
    print(PG_URL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
