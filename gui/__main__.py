"""`python -m gui` / `earmark`: no argument (or only torrents) opens the window, else the CLI.

`earmark "magnet:?xt=..."` is what the desktop's magnet handler runs: it opens the window
(or hands the link to the one already running) with the add dialog prefilled.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: The CLI's command names, known here without importing the CLI (and with it the network
#: stack): starting the window should not pay for aiohttp before the first paint.
CLI_COMMANDS = frozenset(
    {
        "doctor",
        "add",
        "list",
        "search",
        "want",
        "queue",
        "import",
        "run",
        "self-test",
        "follow",
        "following",
    }
)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in CLI_COMMANDS and not args[0].startswith("-")):
        from gui.app import run_app

        return run_app(args)
    from gui.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
