"""A small thread-safe LRU map (answers in qa/pipeline.py, Milvus unit vectors in qa/storage/milvus.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LruCache:
    """A small thread-safe LRU map; size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
