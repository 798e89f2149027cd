"""`python -m quantlink_terminal` is the same as the `quantlink-terminal` command."""

from quantlink_terminal.cli import main

raise SystemExit(main())
