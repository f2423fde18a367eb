"""The base of every definition model: strict (unknown keys are errors), immutable, alias-aware."""

from pydantic import BaseModel, ConfigDict


class Definition(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )
