"""Use cases: `fn(actor, data) -> result`. Services own their transactions."""
