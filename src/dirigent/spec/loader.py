"""Loading a workflow definition: YAML text → checked `WorkflowDefinition`, or every problem at once.

Steps: parse the YAML (positions kept, `source`), validate the model with pydantic (`validation`
words its errors), check names across the document (`checks`) and compile the JSON Schemas
(`json_schemas`). The last two read the plain data, so their findings are reported together with
pydantic's; a finding at a place pydantic already reported is left out.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from dirigent.spec.checks import check_references
from dirigent.spec.definition import WorkflowDefinition
from dirigent.spec.json_schemas import compile_schemas
from dirigent.spec.problems import DefinitionError, Problem
from dirigent.spec.source import decode, parse_document
from dirigent.spec.validation import problems_from
from dirigent.spec.workflow import Workflow


def load_workflow(source: str | bytes, file: str = "<workflow>") -> WorkflowDefinition:
    """Load and check a workflow definition written in YAML (bytes must be UTF-8).

    Raises `DefinitionError` with every error found (and the warnings), each with `file`, line,
    column and path. Every jq template is compiled here (each distinct query once per process).
    """
    text = decode(source, file)
    document = parse_document(text, file)
    if not isinstance(document.data, dict):
        raise DefinitionError([document.problem((), _not_a_map(document.data))])
    problems: list[Problem] = []
    workflow: Workflow | None = None
    try:
        workflow = Workflow.model_validate(document.data, by_alias=True, by_name=False)
    except ValidationError as exc:
        problems.extend(problems_from(exc, document))
    reported = {p.path for p in problems}
    validators, schema_problems = compile_schemas(document)
    for problem in [*check_references(document), *schema_problems]:
        if problem.path not in reported:
            problems.append(problem)
    if workflow is None or any(p.severity == "error" for p in problems):
        raise DefinitionError(problems)
    return WorkflowDefinition(
        workflow=workflow,
        file=file,
        source=text,
        states={state.id: state for state in workflow.states},
        functions={function.id: function for function in workflow.functions},
        schemas=validators,
        warnings=sorted(problems, key=lambda p: p.sort_key),
        start_state=workflow.start_state_id,
    )


def load_workflow_file(path: str | Path) -> WorkflowDefinition:
    """`load_workflow` of a file's contents; problems name the file as given. A file that cannot
    be read is a `DefinitionError` too."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DefinitionError(
            [Problem(str(path), None, None, "", exc.strerror or str(exc))]
        ) from None
    return load_workflow(data, str(path))


def _not_a_map(data: object) -> str:
    if data is None:
        return "the document is empty; a workflow is a map with at least 'id' and 'states'"
    kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
    if isinstance(data, str):
        kind = "a string"
    return f"a workflow is a map with at least 'id' and 'states', not {kind}"
