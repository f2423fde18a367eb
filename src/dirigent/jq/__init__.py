"""jq templates: definition values in which strings may hold `jq(...)` queries (language §2).

    t = Template.compile({"name": "jq(.user.name)", "greeting": "hello jq(.user.name)!", "n": 1})
    t.evaluate({"user": {"name": "Ada"}})  # {"name": "Ada", "greeting": "hello Ada!", "n": 1}

Rules, applied to the whole value:

* maps and lists are evaluated element by element (map keys are never templates); numbers,
  booleans and null are returned as they are;
* a string without `jq(` is a literal (`".foo"` is the string ".foo");
* a string that is exactly `jq(Q)`, blanks around ignored, is Q's single value, of any JSON type;
* a string with text around one or more `jq(...)` is interpolation: each query gives exactly
  one value; strings go in raw, anything else as compact JSON (`null`, `[1,2]`); the result is
  trimmed;
* a query ends at the `)` that balances its `jq(`, not counting parentheses inside jq string
  literals, whose `\\(...)` interpolations are jq code again: `jq("a)")` is the string "a)".

Errors: loading raises `TemplateSyntaxError` (unbalanced `jq(`, jq that does not compile, with
libjq's message, jq that uses a forbidden builtin). Evaluating raises catchable `WorkflowError`s: `direktiv.jq.notObject` when a query
gives no value or several where one is needed, `direktiv.jq.badCommand` when jq fails at run time.

Performance: every query is compiled when the template is compiled, and each query text once per
process (`jq_query` keeps a bounded cache). Evaluating serialises the data once (orjson; libjq takes
JSON text) and runs all queries of a template as one jq program, so libjq parses the data once.
Templates with no jq return their value without touching jq (maps and lists as fresh copies;
`None` and `""` are literals too); `jq(.)` returns the data itself. `None`, `""` and `jq(.)` are
`is_identity`: callers skip them where they mean "the data as it is" (an absent or empty transform).

Sandbox: jq builtins that would reach into the server (`env` and `$ENV`, `import`/`include`,
`input`/`inputs`/`input_filename`, `debug`/`stderr`, `halt`/`halt_error`) are refused when a query
is compiled, with `TemplateSyntaxError` (`sandbox`).

Modules: `scanner` finds queries in strings, `compiler` turns a value into a node tree (`nodes`),
`query` compiles and runs one jq program, `sandbox` refuses the forbidden builtins, `encoding` writes JSON text, `errors` words the failures,
`template` ties them together. User documentation: docs/jq-templates.md.
"""

from dirigent.jq.errors import TemplateSyntaxError
from dirigent.jq.query import Query, jq_query
from dirigent.jq.template import Template

__all__ = ["Query", "Template", "TemplateSyntaxError", "jq_query"]
