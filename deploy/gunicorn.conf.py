"""gunicorn settings for the gateway: uvicorn workers, each with its own RPC proxy pool
(created on first use, after the fork)."""
import os

bind = os.environ.get("EOFFICE_GATEWAY_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("EOFFICE_GATEWAY_WORKERS", "2"))
worker_class = "uvicorn.workers.UvicornWorker"
timeout = 60
graceful_timeout = 20
accesslog = "-"
