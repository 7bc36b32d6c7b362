"""The one error type a user sees when a ping file cannot be used."""

from __future__ import annotations


class PingFileError(ValueError):
    """A file (or bytes) that cannot be analysed at all.

    The message is one sentence that says what is wrong and how to fix it. It never
    quotes raw rows or device ids.
    """


class ColumnMappingError(PingFileError):
    """The latitude, longitude or timestamp column could not be found.

    ``available`` lists the file's column names and ``missing`` the roles that were
    not found, so an app can offer a mapping form.
    """

    def __init__(self, message: str, available: list[str], missing: list[str]) -> None:
        super().__init__(message)
        self.available = list(available)
        self.missing = list(missing)
