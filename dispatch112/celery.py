"""The Celery app. Broker is Redis when REDIS_URL is set; otherwise tasks run eagerly
in-process (settings.CELERY_TASK_ALWAYS_EAGER), so the embedded mode needs no worker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch112.settings")

app = Celery("dispatch112")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
