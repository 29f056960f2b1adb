"""/performance/: the supervisors' statistics pages and their exports (the call answering
CSV, telephony's, is routed beside them in dispatch112.urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.performance, name="performance"),
    path("agency/<slug:code>/", views.agency_detail, name="performance-agency"),
    path("export.csv", views.export_table_csv, name="performance-csv"),
    path("export.xlsx", views.export_table_xlsx, name="performance-xlsx"),
    path("assignments.csv", views.export_assignments_csv, name="performance-assignments-csv"),
    path("assignments.xlsx", views.export_assignments_xlsx, name="performance-assignments-xlsx"),
]
