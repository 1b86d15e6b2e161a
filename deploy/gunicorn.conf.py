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


def post_fork(server, worker):
    """A worker ends with its master. uvicorn's workers do not watch their parent, so a master
    killed with SIGKILL (or by the OOM killer) left them serving on the port as orphans, and the
    master started in its place could not bind it. PR_SET_PDEATHSIG asks the kernel to send
    SIGKILL to the worker the moment its parent dies: not SIGTERM, on which a uvicorn worker
    drains its keep-alive connections for up to graceful_timeout while still holding the port.
    Requests it was serving are lost with it, as with the master; clients retry them with
    their idempotency keys."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != server.pid:  # the master died before the request reached the kernel
        os.kill(os.getpid(), signal.SIGKILL)
