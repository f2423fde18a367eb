"""The server process leaves out the libraries it needs only on demand (docs/benchmarks.md,
`memory.idle`): Alembic (a child process migrates), cryptography (the first secret), jsonschema (the
first workflow with a schema), rich (client commands), SQLAlchemy's ORM (never)."""

from __future__ import annotations

import subprocess
import sys

_IMPORT_THE_SERVER_AND_TELL = """
import sys
import dirigent.api, dirigent.cli.main, dirigent.cli.serving, dirigent.operations.server
import dirigent.store.postgres, dirigent.store.sql, dirigent.store.sqlite
from dirigent.spec import load_workflow

load_workflow("id: w\\nstates:\\n- id: a\\n  type: noop\\n")
on_demand = ("alembic", "cryptography", "jsonschema", "rich", "sqlalchemy.orm")
print(*[name for name in on_demand if name in sys.modules])
"""


def test_the_server_imports_no_library_it_needs_only_on_demand() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THE_SERVER_AND_TELL], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
