"""`python -m ccc` runs the command-line interface."""

from ccc.cli import main

raise SystemExit(main())
