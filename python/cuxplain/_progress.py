"""Progress over the model evaluations of a call: tqdm when it is installed,
otherwise one line on stderr rewritten in place."""

from __future__ import annotations

import sys
from typing import Any, Optional


class _Line:
    """A minimal stand-in for tqdm: the count and total on one line."""

    def __init__(self, total: int, desc: str):
        self.total = total
        self.desc = desc
        self.n = 0
        self._draw()

    def update(self, k: int) -> None:
        self.n += k
        self._draw()

    def _draw(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} evaluations")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def progress_bar(enabled: Any, total: int, desc: str) -> Optional[Any]:
    """A bar counting `total` model evaluations, or None when disabled.
    `enabled` may be True, False, or a callable making a tqdm-like object
    from (total=, desc=)."""
    if not enabled:
        return None
    if callable(enabled):
        return enabled(total=total, desc=desc)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Line(total, desc)
    return tqdm(total=total, desc=desc, unit="eval")


def close(bar: Optional[Any]) -> None:
    if bar is not None:
        bar.close()
