"""Exit status and usage errors, the same for every `python -m mtasts` command.

0 everything passed, 1 something failed (a check, a session, a rejected input), 2 a usage or
configuration error, 3 (`verify`) a domain could not be checked because the resolver or the
network did not answer, 130 interrupted (Ctrl-C).
"""

from mtasts.errors import MtaStsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNCHECKED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, the status shells give an interrupted command


class UsageError(MtaStsError, ValueError):
    """A command line that cannot be carried out as given; the message says what to change."""
