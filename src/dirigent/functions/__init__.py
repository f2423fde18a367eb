"""Calling functions over HTTP per the function contract, and the sidecar serving `/log` and `/var`.

See `docs/function-contract.md`. `FunctionCaller.call` makes one call attempt; `open_sidecar` serves
`/log` and `/var` on the loopback port images expect (8889).
"""

from dirigent.functions.answer import interpret_answer
from dirigent.functions.base import FunctionStore
from dirigent.functions.call import FunctionCall, FunctionCaller, new_action_id
from dirigent.functions.sidecar import Sidecar, open_sidecar

__all__ = [
    "FunctionCall",
    "FunctionCaller",
    "FunctionStore",
    "Sidecar",
    "interpret_answer",
    "new_action_id",
    "open_sidecar",
]
