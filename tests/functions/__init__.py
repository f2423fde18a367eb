"""Tests of `dirigent.functions` against real function processes."""
