"""Function definitions of a workflow (function-contract.md §8)."""

# Pydantic copies mutable defaults (`= []`) for each instance; they are not shared.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from dirigent.spec.base import Definition, type_field
from dirigent.spec.fields import VariableKey, WorkflowId

Scope = Literal["instance", "workflow", "namespace"]
Size = Literal["small", "medium", "large"]


class FunctionFile(Definition):
    """A variable written into the call's temp dir before the call (function-contract.md §5)."""

    key: VariableKey
    scope: Scope = "instance"
    as_: str | None = Field(default=None, alias="as")
    type: Literal["plain", "base64", "tar", "tar.gz"] = "plain"

    @property
    def file_name(self) -> str:
        return self.as_ or self.key


class FunctionBase(Definition):
    id: str = Field(pattern=r"^[a-zA-Z0-9._-]+$")
    files: list[FunctionFile] = []


class ReusableFunction(FunctionBase):
    """A service made from `image` for this workflow; pods are kept warm and shared."""

    type: Literal["reusable"] = "reusable"
    image: str
    cmd: str | None = None
    size: Size = "small"
    scale: int = Field(default=0, ge=0)


class IsolatedFunction(FunctionBase):
    """One fresh run of `image` per call, run to completion (function-contract.md §7)."""

    type: Literal["isolated"]
    image: str
    cmd: str | None = None
    size: Size = "small"


class KnativeNamespaceFunction(FunctionBase):
    """A long-lived service registered in the namespace."""

    type: Literal["knative-namespace"]
    service: str


class KnativeGlobalFunction(FunctionBase):
    """A long-lived service shared by every namespace."""

    type: Literal["knative-global"]
    service: str


class SubflowFunction(Definition):
    """Another workflow of the namespace, called as a child instance."""

    id: str = Field(pattern=r"^[a-zA-Z0-9._-]+$")
    type: Literal["subflow"]
    workflow: WorkflowId


FunctionDefinition = Annotated[
    Annotated[ReusableFunction, Tag("reusable")]
    | Annotated[IsolatedFunction, Tag("isolated")]
    | Annotated[KnativeNamespaceFunction, Tag("knative-namespace")]
    | Annotated[KnativeGlobalFunction, Tag("knative-global")]
    | Annotated[SubflowFunction, Tag("subflow")],
    # 2021 documents wrote functions without `type`; those are reusable.
    Discriminator(type_field("reusable")),
]

#: Function kinds that are reached over HTTP with the function contract.
HttpFunction = (
    ReusableFunction | IsolatedFunction | KnativeNamespaceFunction | KnativeGlobalFunction
)
