"""Check the Settings dialog's extra aria2c options against the chosen aria2c.

An option name is "known" when the binary lists it in ``aria2c --help=#all``
(see ``aria2_core.option_catalog``). Reading that list runs the binary, so
it happens on the controller's option worker; the answer is kept per
binary path for the life of the dialog, and the checks asked meanwhile are
answered together once it arrives. Problems come out already worded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from aria2_core.option_catalog import check_extra_lines

from .messages import option_problem
from .settings import TYPED_OPTIONS

if TYPE_CHECKING:
    from .controller import Controller


class OptionChecker(QObject):
    """``check(binary, text, then)``; ``problems`` carries the lines to show."""

    problems = Signal(list)  # list[str], empty when all is well

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._known: dict[str, frozenset[str] | None] = {}  # aria2c path -> its options
        self._waiting: list[Callable[[bool], None]] = []  # checks waiting for a list
        self._latest: tuple[str, str] = ("", "")

    def check(self, binary: str, text: str, then: Callable[[bool], None] | None = None) -> None:
        """Check ``text`` for the aria2c ``binary`` selects ("" = the default one).

        ``then(ok)`` runs once the answer is known, maybe at once. A check
        asked while a list is being read is answered with the newest text.
        """
        if then is not None:
            self._waiting.append(then)
        self._latest = (binary, text)
        if not binary and not text.strip():
            self._settle([])  # nothing to check: not even the default binary is run
            return
        if binary not in self._known:
            self._known[binary] = None  # asked; ``got`` checks again

            def got(names: frozenset[str]) -> None:
                self._known[binary] = names
                self.check(*self._latest)

            def failed(exc: BaseException) -> None:
                self._known.pop(binary, None)
                self._settle([self.tr("aria2c program: {error}").format(error=exc)])

            self._controller.fetch_known_options(binary or None, got, failed)
            return
        known = self._known[binary]
        if known is None:
            return  # still being read
        check = check_extra_lines(text, known, TYPED_OPTIONS)
        self._settle([option_problem(p) for p in check.problems])

    def _settle(self, lines: list[str]) -> None:
        self.problems.emit(lines)
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback(not lines)
