"""The core below every room: what any room may use and that knows no room — domain errors,
the input edge (validation, serializer fields), API plumbing, the shared cache, the request's
language. It imports nothing of this project (checked by .importlinter)."""
