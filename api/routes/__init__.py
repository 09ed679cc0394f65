"""One router module per resource; `api/app.py` includes them all."""
