"""Type aliases shared across Dirigent."""

from typing import Any, TypeAlias

#: Any JSON value as Python objects (dict, list, str, int, float, bool, None).
JSON: TypeAlias = Any
#: A JSON object.
JSONObject: TypeAlias = dict[str, Any]
