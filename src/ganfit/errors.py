"""The one exception a user ever sees: the CLI prints its message as one line and exits 2."""


class GanfitError(Exception):
    """Bad input or an unusable environment, described in one line that names the problem."""
