"""The workflow language: definitions as typed models, loaded from YAML and checked.

    definition = load_workflow(text, "hello.yaml")   # or load_workflow_file(path)
    definition.states["greet"], definition.functions["greeter"], definition.warnings

`load_workflow` raises `DefinitionError`, whose `problems` name every error with its file, line,
column and path (`hello.yaml:14:15: states[2].action.function: no function 'greeter'`).
`workflow_json_schema()` is the language as a JSON Schema, for editors. The models themselves live in
`workflow`, `states`, `functions` and `fields`. User documentation: docs/workflow-definitions.md.
"""

from dirigent.spec.definition import WorkflowDefinition
from dirigent.spec.functions import FunctionDefinition
from dirigent.spec.loader import load_workflow, load_workflow_file
from dirigent.spec.problems import DefinitionError, Problem
from dirigent.spec.schema import workflow_json_schema
from dirigent.spec.states import State
from dirigent.spec.workflow import Workflow

__all__ = [
    "DefinitionError",
    "FunctionDefinition",
    "Problem",
    "State",
    "Workflow",
    "WorkflowDefinition",
    "load_workflow",
    "load_workflow_file",
    "workflow_json_schema",
]
