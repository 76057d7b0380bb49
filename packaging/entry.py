"""The frozen executables' script: the same entry point as the `earmark` console script.

PyInstaller needs a file to run as __main__; importing gui.__main__ keeps one code path for
source, pip-installed and frozen runs.
"""

import sys

from gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
