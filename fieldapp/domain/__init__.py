"""Pure domain logic: no Flask, no database. Unit-testable on its own.

Messages meant for people are English msgids marked with `N_`; the service or view
layer translates them with Flask-Babel (zh_Hans is the default locale).
"""


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (no Flask in domain)."""
    return message
