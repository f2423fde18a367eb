"""The base of every definition model: strict (unknown keys are errors), immutable, alias-aware."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict


class Definition(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )


def type_field(default: str) -> Callable[[Any], str]:
    """A discriminator reading `type`, for unions where a missing `type` means `default`."""

    def kind(value: Any) -> str:
        found = (
            value.get("type", default)
            if isinstance(value, dict)
            else getattr(value, "type", default)
        )
        return str(found)

    return kind
