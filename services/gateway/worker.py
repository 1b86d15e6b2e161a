"""The gunicorn worker class of the gateway (deploy/gunicorn.conf.py): uvicorn's, told

- not to announce itself (no `Server: uvicorn` header), and
- not to rewrite the client address and scheme from X-Forwarded-* headers itself: uvicorn's
  default trusts them from 127.0.0.1, so anyone on the machine, or a local reverse proxy that
  passes the headers through, could choose the address rate limits count. The app applies the
  same middleware only for EOFFICE_TRUSTED_PROXIES (services/gateway/app.py)."""
from uvicorn.workers import UvicornWorker


class GatewayWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "server_header": False, "proxy_headers": False}
