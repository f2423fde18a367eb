"""What every test shares.

Alembic is loaded here so that the many new SQLite databases the tests open migrate in this process
(`dirigent.store.migrations.upgrade`), not each in a child Python of its own (about 0.3 s apiece).
"""

import alembic.command  # noqa: F401
