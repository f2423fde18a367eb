"""The figures of `python -m bench run`, one module per group; each has `async measure(ctx)`."""
