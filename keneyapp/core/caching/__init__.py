"""The two-level cache service; see `service` for the guarantees."""

from .service import CacheService, make_key, stats_label

cache_service = CacheService()

__all__ = ["CacheService", "cache_service", "make_key", "stats_label"]
