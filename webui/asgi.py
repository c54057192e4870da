import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
application = get_asgi_application()

import webui.celery  # noqa: F401 - the web tier sends tasks: load Celery at start, not on the first send
