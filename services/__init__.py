"""The e-Office services: one package each, read top-down from its `service.py`."""
