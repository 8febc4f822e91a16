"""WSGI entry point: build the Django application, then load the model before serving."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toxmon.settings")

application = get_wsgi_application()

# Warm-up: load the engine now, once per process, so no request pays for it. With
# TOXMON_REQUIRE_MODEL=1 a missing model raises here and the worker refuses to boot.
from analyzer.engines.loader import engine_get  # noqa: E402
from analyzer.normalization import normalizer_warm  # noqa: E402

engine_get()
normalizer_warm()
