"""Entry point of `python -m matcher`."""

from matcher.cli import main

raise SystemExit(main())
