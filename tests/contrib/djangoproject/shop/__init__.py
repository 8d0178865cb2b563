"""An app whose models module the tests fill from the snippets of docs/django.md."""
