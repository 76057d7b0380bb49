"""GUI tests run in a real Qt event loop without a screen unless one is given."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
