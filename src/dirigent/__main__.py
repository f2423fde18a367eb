"""`python -m dirigent` is the `dirigent` command."""

from dirigent.cli.main import main

main()
