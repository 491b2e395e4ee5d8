"""WhiteNoise in front of the bench's WSGI hello world, as a Django project without nginx serves
its collectstatic output under gunicorn: /static/ from $BENCH_STATIC_ROOT (production settings:
no autorefresh, files scanned at start), everything else from the app."""
import os

from whitenoise import WhiteNoise

from wsgi_hello import application as hello

application = WhiteNoise(hello, root=os.environ["BENCH_STATIC_ROOT"], prefix="static/")
