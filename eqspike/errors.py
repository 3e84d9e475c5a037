"""Exceptions that reach the user as a one-line message (no traceback).

The CLI catches :class:`EqspikeError` and prints ``eqspike: error: ...``.
"""


class EqspikeError(Exception):
    """Base of every error eqspike reports to the user."""


class ParameterError(EqspikeError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class DataError(EqspikeError):
    """A dataset or input file is missing, corrupted or malformed."""


class ProfileError(EqspikeError, ValueError):
    """A device or neuron profile is missing fields or holds invalid values."""
