"""The one exception type the store raises for things a caller must handle."""


class StoreError(Exception):
    """A problem with the kiosk store (key, database, unknown id ...).

    Messages carry paths and ids only, never PHI: they end up in logs.
    """
