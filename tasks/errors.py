"""One exception hierarchy for everything loopscope raises on purpose.

Messages are written for the person at the terminal: each says what was wrong and,
where it can, what to do instead.
"""

from __future__ import annotations

from loopscope.tasks.secrets import mask_word, shorten

QUOTE_LIMIT = 40
"""Most characters of the offending word an error message quotes."""


class LoopscopeError(Exception):
    """Root of every error loopscope raises itself."""


class SpecError(LoopscopeError, ValueError):
    """A task spec could not be parsed. ``word`` is the offending word, when there is one, and
    ``position`` where it starts in the line. Messages show the word shortened to a few dozen
    characters with any secret masked, so an error never echoes a password or a megabyte."""

    def __init__(self, message: str, *, word: str | None = None, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.word = word
        self.position = position

    def __str__(self) -> str:
        if self.word is None:
            return self.message
        return f"{self.message} (at {shorten(mask_word(self.word), QUOTE_LIMIT)!r})"


class KindError(LoopscopeError):
    """A kind could not be declared or registered (a taken name, an unsupported parameter)."""


class KindFileError(KindError):
    """A user's kinds file could not be loaded. The message is one line naming the file."""


class TaskFailure(LoopscopeError):
    """Base class for the ways a task ends in the ``exception`` state by loopscope's own hand."""


class HTTPStatusError(TaskFailure):
    """A fetch got a response whose status is not 2xx."""

    def __init__(self, status: int, reason: str, method: str, url: str):
        super().__init__(f"HTTP {status} {reason} from {method} {url}".replace("  ", " "))
        self.status = status
        self.reason = reason


class FetchTimeout(TaskFailure, TimeoutError):
    """A fetch did not complete within its timeout."""


class RedirectLoop(TaskFailure):
    """A fetch was redirected more times than aiohttp follows (usually in a circle)."""


class FileRefused(TaskFailure):
    """A file kind will not touch this path: it exists and overwriting was not asked for,
    it is a symbolic link, a FIFO, a directory or a device it cannot use."""


class ReadTooLarge(TaskFailure):
    """A whole-mode read would hold more in memory than the cap allows."""


class InjectedFailure(TaskFailure):
    """Raised by the ``fail`` kind: a failure on purpose, to show what one looks like."""


class ManagerClosed(LoopscopeError, RuntimeError):
    """The TaskManager was used after ``aclose()``."""
