"""gunicorn settings for the gateway: uvicorn workers, each with its own RPC proxy pool
(created on first use, after the fork)."""
import os

bind = os.environ.get("EOFFICE_GATEWAY_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("EOFFICE_GATEWAY_WORKERS", "2"))
# uvicorn's worker without a Server header and without trusting X-Forwarded-* by itself.
worker_class = "services.gateway.worker.GatewayWorker"
timeout = 60
graceful_timeout = 20
accesslog = "-"
