"""The two-level cache service; see `service` for the guarantees."""

from .service import CacheService, make_key, stats_label

cache_service = CacheService()

from .helpers import bump_on_commit, clinic_namespace, get_or_compute  # noqa: E402 (needs cache_service)

__all__ = [
    "CacheService",
    "bump_on_commit",
    "cache_service",
    "clinic_namespace",
    "get_or_compute",
    "make_key",
    "stats_label",
]
