"""The `dirigent` command."""
