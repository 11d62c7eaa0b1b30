"""Entry point of `python -m matcher`."""

from matcher.cli import keep_freed_memory, main

keep_freed_memory()
raise SystemExit(main())
