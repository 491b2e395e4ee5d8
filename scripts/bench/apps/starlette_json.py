"""The Starlette app of the benchmarks: one JSON route (/json) serializing twenty records."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ITEMS = [{"id": i, "name": f"item {i}", "price": round(i * 1.25, 2), "tags": ["bench", "json"]} for i in range(20)]


async def items(request):
    return JSONResponse({"count": len(ITEMS), "items": ITEMS})


app = Starlette(routes=[Route("/json", items)])
