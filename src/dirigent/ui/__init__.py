"""The web UI: static files (`static/`, plain ES modules, no build step) served at `/ui/` by
`dirigent server`, and the views its routes render: a workflow's graph (`graph`, laid out in rows by
`layout`) and the states an instance went through (`visits`).

The UI speaks to the server only through the REST API. User documentation: docs/ui.md.
"""

from dirigent.ui.serve import WebUi

__all__ = ["WebUi"]
