"""The Django project.

Its Celery app (webui/celery.py) is loaded by what sends or runs tasks: the web tier (wsgi.py, asgi.py),
`celery -A webui` (which finds webui.celery by itself), scanner/queueing.py and scanner/tasks.py. Not here:
every Django process imports this package, and `manage.py scan` needs no Celery.
"""
