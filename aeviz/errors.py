"""Errors whose message is meant for the user, verbatim: the CLI prints it as one line,
the app shows it in an error box. Anything else is a bug and may show a traceback."""


class AevizError(Exception):
    """Base class: the message says what went wrong and how to fix it."""


class DatasetUnavailable(AevizError):
    """No copy of a dataset could be found or downloaded."""


class CorruptDataFile(AevizError):
    """A data file exists but is truncated or not in the expected format."""


class InvalidConfig(AevizError, ValueError):
    """A setting (k, learning rate, a variant parameter, ...) is out of range or unknown."""


class RunNotFound(AevizError):
    """No saved run has this id."""


class DamagedRun(AevizError):
    """A saved run is missing a file or a file cannot be read."""


class SaveFailed(AevizError):
    """A run could not be written (full disk, read-only or unwritable folder); nothing was left behind."""


class QueueFull(AevizError):
    """A session already has as many runs waiting in the queue as one session may."""
