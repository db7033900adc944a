"""One error type for bad input, so the CLI can print one line and exit 2."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: names the file, the key (dotted path), and what was expected."""

    def __init__(self, file: str | Path | None, key: str | None, message: str,
                 line: int | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        self.line = line
        self.message = message
        super().__init__(self.one_line())

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.file, self.key, self.message, self.line))

    def one_line(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            return f"{where}: key '{self.key}': {self.message}"
        return f"{where}: {self.message}"


class ParameterConflict(InputError, ValueError):
    """Parameter values each within range but impossible together (e.g. chain revenues above
    the city total). A ValueError too, so calibration can reject such draws."""


class InputErrors(InputError):
    """Several problems found in one file: all reported at once, one line each."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.key, first.message, first.line)

    def __reduce__(self):
        return (type(self), (self.errors,))

    def one_line(self) -> str:
        return "\n".join(e.one_line() for e in self.errors)
