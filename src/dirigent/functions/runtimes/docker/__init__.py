"""The `docker` runtime: pods and isolated functions as containers of a local Docker Engine (or
Podman's compatible API). `open_docker_runtime` puts it together; docs/functions.md describes it.

Modules: `engine` (the Engine API client), `registries` (logins for pulls), `owners` (which server a
container belongs to), `containers` (making and removing them), `pod` and `isolated` (the two kinds
of function), `runtime` (the whole).
"""
