"""The one entry point for `flask`, gunicorn and `make run`."""

from discussion import create_app

app = create_app()
