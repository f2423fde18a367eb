"""The REST API: FastAPI routes over the operations, in the shapes of Direktiv's 2021 API.

`create_app(server)` builds the application; `dirigent server` serves it with uvicorn. See
docs/api.md for routes, shapes, errors, authentication and streaming.
"""

from dirigent.api.app import create_app

__all__ = ["create_app"]
