"""Quill's errors: one class per error code of the Swift engine, all subclasses of :class:`QuillError`."""

from __future__ import annotations

from typing import Dict, Type


class QuillError(Exception):
    """An error reported by Quill's engine.

    Attributes:
        code: The engine's error code (``run_finished``, ``not_found``, ``invalid_argument``, ``io``, ...).
        message: One line that says what failed and what to do.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        """An error with the engine's code and its one-line message."""
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class RunFinishedError(QuillError):
    """The run has ended; it accepts no more values (code ``run_finished``)."""


class NotFoundError(QuillError):
    """No such run, project or file (code ``not_found``)."""


class AmbiguousError(QuillError):
    """A run reference matches several runs (code ``ambiguous``)."""


class InvalidArgumentError(QuillError, ValueError):
    """An argument the engine refused (code ``invalid_argument``)."""


class MalformedError(QuillError):
    """A file or answer that does not parse (code ``malformed``)."""


class QuillIOError(QuillError, OSError):
    """Reading or writing a file failed (code ``io``)."""


class ProcessError(QuillError):
    """A child process failed (code ``process``)."""


class WriterFailedError(QuillError):
    """The run's background writer stopped after a write error (code ``writer_failed``)."""


class PayloadTooLargeError(QuillError):
    """A request exceeds the server's limits (code ``payload_too_large``)."""


class ConflictError(QuillError):
    """The server refused a change that conflicts with what it holds (code ``conflict``)."""


class UnauthorizedError(QuillError):
    """The server wants an API key, or refused the one given (code ``unauthorized``)."""


class ForbiddenError(QuillError):
    """The API key may not do this (code ``forbidden``)."""


class ArtifactTooLargeError(QuillError):
    """An artifact exceeds the server's limit (code ``artifact_too_large``)."""


class QuotaExceededError(QuillError):
    """The server's storage quota is used up (code ``quota_exceeded``)."""


class UnknownReferenceError(QuillError):
    """A reference the server does not know (code ``unknown_reference``)."""


class UnavailableError(QuillError):
    """A server or the native library is unavailable (code ``unavailable``)."""


_BY_CODE: Dict[str, Type[QuillError]] = {
    "run_finished": RunFinishedError,
    "not_found": NotFoundError,
    "ambiguous": AmbiguousError,
    "invalid_argument": InvalidArgumentError,
    "malformed": MalformedError,
    "io": QuillIOError,
    "process": ProcessError,
    "writer_failed": WriterFailedError,
    "payload_too_large": PayloadTooLargeError,
    "conflict": ConflictError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "artifact_too_large": ArtifactTooLargeError,
    "quota_exceeded": QuotaExceededError,
    "unknown_reference": UnknownReferenceError,
    "unavailable": UnavailableError,
}


def error_for_code(code: str) -> Type[QuillError]:
    """The exception class for an engine error code; :class:`QuillError` itself for a code this package does not know."""
    return _BY_CODE.get(code, QuillError)


__all__ = ["QuillError", "error_for_code"] + [cls.__name__ for cls in _BY_CODE.values()]
