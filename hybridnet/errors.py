"""The one exception type the CLI turns into a single line and exit code 2.

Library code raises :class:`HybridnetError` for anything a user can fix (a bad
scenario value, a missing file, a broken checkpoint). The message must name the
file, the key and what is allowed, because it is all the user will see.
"""

from __future__ import annotations


class HybridnetError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""
