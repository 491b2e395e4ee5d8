"""Creates the benchmarks' sqlite database at $BENCH_DJANGO_DB: the items table and 200 rows."""
import os

import django
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_site.settings")
django.setup()
call_command("migrate", run_syncdb=True, verbosity=0)

from items.models import Item  # noqa: E402  (needs django.setup() first)

Item.objects.all().delete()
Item.objects.bulk_create(Item(name=f"item number {i}", price=i * 1.25, stock=i % 7) for i in range(200))
print(f"created {Item.objects.count()} items")
