"""`python -m bot …` is the same as `bzpeer …`."""

from bot.cli import main

raise SystemExit(main())
