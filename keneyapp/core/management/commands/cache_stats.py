"""Print the cache service's hit and miss counts per key prefix and level."""

from django.core.management.base import BaseCommand

from keneyapp.core.caching import cache_service
from keneyapp.core.scoping import scopes_disabled


class Command(BaseCommand):
    help = "Hit and miss counts of the two-level cache, per prefix and level (shared via Redis)."

    # The cache's statistics are the whole platform's (all clinics' keys); it reads no rows.
    @scopes_disabled()
    def handle(self, *args, **options):
        cache_service.flush_stats()
        stats = cache_service.shared_stats()
        if stats is None:
            self.stdout.write(
                "No shared statistics (REDIS_URL unset or Redis unreachable); counts of this process only."
            )
            stats = cache_service.stats()
        if not stats:
            self.stdout.write("No cache activity recorded.")
            return
        self.stdout.write(_row("prefix", "L1 hits", "L1 misses", "L2 hits", "L2 misses", "computed", "hit %"))
        for label, levels in stats.items():
            l1, l2, computed = levels["l1"], levels["l2"], levels["source"]["computed"]
            lookups = l1["hits"] + l1["misses"]
            hits = l1["hits"] + l2["hits"]
            rate = f"{100 * hits / lookups:.1f}" if lookups else "-"
            self.stdout.write(_row(label, l1["hits"], l1["misses"], l2["hits"], l2["misses"], computed, rate))


def _row(label, *columns) -> str:
    return f"{label:<40}" + "".join(f" {column:>10}" for column in columns)
