"""User-facing errors: one sentence that names the problem and the fix.

The command line prints these without a traceback; anything else that escapes is a bug.
"""


class SaddlepointError(Exception):
    """A mistake in the user's input (config, data, paths) that they can mend."""
