# The static-file settings of a Django project served by bicorn --static /static/=staticfiles
# (add them to mysite/settings.py). Then, at each deploy: python manage.py collectstatic --noinput
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [
    # ...
    "django.contrib.staticfiles",
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (app.5af66c1b1797.css) listed in staticfiles.json: bicorn gives them a year
    # of immutable cache. whitenoise.storage.CompressedManifestStaticFilesStorage does the same
    # and also writes .gz (and .br, with the brotli package) siblings, which bicorn sends to
    # clients that accept them; WhiteNoise's middleware is not needed.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
