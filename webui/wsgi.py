import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
application = get_wsgi_application()

import webui.celery  # noqa: F401 - the web tier sends tasks: load Celery at start, not on the first send
