"""The one exception type for errors a user can cause."""

from __future__ import annotations


class EcgkitError(Exception):
    """An error caused by the user's input (bad file, unknown option, missing leads...).

    The message says what is wrong and, where it can, what to do about it. The CLI prints it
    as one line on stderr and exits with status 2; the app shows it with ``st.error``.
    """
