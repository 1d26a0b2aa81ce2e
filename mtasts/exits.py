"""Exit status and usage errors, the same for every `python -m mtasts` command.

0 everything passed, 1 something failed (a check, a session, a rejected input), 2 a usage or
configuration error, 3 (`verify`) a domain could not be checked because the resolver or the
network did not answer.
"""

from mtasts.errors import MtaStsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNCHECKED = 0, 1, 2, 3


class UsageError(MtaStsError, ValueError):
    """A command line that cannot be carried out as given; the message says what to change."""
