"""The one error type a user sees when a ping file cannot be used."""

from __future__ import annotations


class PingFileError(ValueError):
    """A file (or bytes) that cannot be analysed at all.

    The message is one sentence that says what is wrong and how to fix it. It never
    quotes raw rows or device ids.
    """


class ColumnMappingError(PingFileError):
    """The latitude, longitude or timestamp column could not be found.

    ``available`` lists the file's column names, ``missing`` the roles that were not
    found (or not surely), and ``guesses`` role -> column for every role found or
    guessed, so an app can offer a mapping form that starts from them.
    """

    def __init__(
        self,
        message: str,
        available: list[str],
        missing: list[str],
        guesses: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.available = list(available)
        self.missing = list(missing)
        self.guesses = dict(guesses or {})
