"""The REST API benchmark (SPEC 13): DRF against a bare Django view, under gunicorn."""
