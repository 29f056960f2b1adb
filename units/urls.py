from django.urls import path

from . import views

urlpatterns = [
    path("", views.field, name="field"),
    path("sw.js", views.service_worker, name="field-sw"),
    path("manifest.webmanifest", views.manifest, name="field-manifest"),
]
