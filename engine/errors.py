"""The errors msp expects, each carrying its documented exit code
(docs/ARCHITECTURE.md#errors-and-exit-codes).

0 ok; 1 input rejected or item not found; 2 usage error; 3 database
unreachable or misconfigured.  The CLI turns any of these into one line on
stderr and that exit code, never a traceback.
"""

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3


class MspError(Exception):
    """An expected failure with a one-line message and an exit code."""

    exit_code = EXIT_REJECTED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(MspError):
    """An item (task, alert, reject, workflow…) that does not exist in this workspace."""

    exit_code = EXIT_REJECTED


class InputRejected(MspError):
    """Input that cannot be accepted (a missing file, a refused decision)."""

    exit_code = EXIT_REJECTED


class UsageError(MspError):
    """A bad option value or combination."""

    exit_code = EXIT_USAGE


class DatabaseError(MspError):
    """The database is unreachable or misconfigured.  Messages never hold a password."""

    exit_code = EXIT_DATABASE


class EventRejected(InputRejected):
    """An event handed to msp in Python (``Workspace.emit``) that fails its schema.
    ``problems`` is the list of (JSON pointer path, message) that ``msp ingest``
    prints for the same event as a line; nothing was stored."""

    def __init__(self, event_type: object, problems: list[tuple[str, str]]):
        self.event_type = event_type
        self.problems = problems
        listed = "; ".join(f"{path or '(root)'}: {message}" for path, message in problems)
        super().__init__(f"{event_type} event rejected: {listed}")
