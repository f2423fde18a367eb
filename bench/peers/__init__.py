"""`python -m bench peers`: one 3-step workflow on Dirigent, DBOS and Restate, side by side.

The peers are installed on demand into `bench/.peers/` (see `environment`), never into Dirigent's
environment; `dbos_app` and `restate_app` run with that environment's Python and import nothing of
Dirigent or of the rest of `bench`.
"""
