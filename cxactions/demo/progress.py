"""How the demo reports its steps: silent by default, printed on stderr by the CLI.

Its own module so that the CLI can define its printer without importing the demo generator
(and the simulator) on every ``cxactions`` start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


class Progress:
    """Where the demo reports what it is doing; silent here, the CLI prints on stderr."""

    def step(self, message: str) -> None:
        """A new step begins."""

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        """A long step: yields a function to call with the number of items just done."""
        yield lambda done: None
