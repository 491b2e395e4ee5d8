"""The view under load: one sqlite query (twenty rows in stock), rendered by a template."""
from django.shortcuts import render

from .models import Item


def item_list(request):
    items = Item.objects.filter(stock__gt=0).order_by("id")[:20]
    return render(request, "items/list.html", {"items": items, "title": "Items in stock"})
