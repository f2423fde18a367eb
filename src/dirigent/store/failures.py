"""Driver errors turned into Dirigent's store errors.

Retries depend on the difference (house style §11): `StoreUnavailable(may_have_committed=False)` when
the failure came before COMMIT was sent (nothing was written), `True` when it came while committing
(the database may have applied the transaction). A unique violation is a `Conflict`, a missing parent
row a `NotFound`; a deadlock or serialization failure rolled everything back, so it is reported as
unavailable-and-not-committed, which callers retry.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, StatementError

from dirigent.errors import Conflict, DirigentError, Internal, NotFound, StoreUnavailable
from dirigent.store.dialect import Dialect, Failure


def translate(
    error: Exception,
    dialect: Dialect,
    *,
    committing: bool,
    conflict: str = "exists already",
    missing: str = "the row it belongs to does not exist",
) -> DirigentError:
    """The store error for a driver or SQLAlchemy error; `conflict`/`missing` word the messages."""
    if isinstance(error, StatementError) and isinstance(error.orig, DirigentError):
        return error.orig  # raised while binding a parameter (e.g. a naive datetime)
    original: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        original = error.orig
    kind = dialect.classify(original)
    if kind is None and isinstance(error, DBAPIError) and error.connection_invalidated:
        kind = Failure.UNAVAILABLE
    if kind is Failure.UNIQUE:
        return Conflict(conflict)
    if kind is Failure.FOREIGN_KEY:
        return NotFound(missing)
    if kind is Failure.TRANSIENT:
        return StoreUnavailable(
            f"{dialect.name} rolled the transaction back, retry: {original}",
            may_have_committed=False,
        )
    if kind is Failure.UNAVAILABLE:
        return StoreUnavailable(
            f"{dialect.name} is unavailable: {original}", may_have_committed=committing
        )
    return Internal(f"{dialect.name} failed: {original}")
