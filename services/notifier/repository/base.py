"""What every part of the notifier repository holds: the database and the sealing keys."""

from __future__ import annotations

from veil.core.db import Database
from veil.core.sealing import Keyring


class RepositoryBase:
    """The database and the keys that seal and key recipients."""

    def __init__(self, db: Database, keys: Keyring) -> None:
        self._db = db
        self._keys = keys
