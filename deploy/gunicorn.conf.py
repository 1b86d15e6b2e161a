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


# A reload (SIGHUP, `deploy/eoffice up` after a code change) hands over without a gap. gunicorn's
# own reload starts the new workers and at once tells the old ones to stop taking connections:
# until a new worker has imported the app (seconds; half a minute on a busy two-core machine)
# nobody accepts, and clients waited or timed out. Here the new workers are started first and
# the reload waits (up to READY_WAIT seconds) until each has the app loaded; only then are the
# old ones stopped (gracefully: they finish what they serve, graceful_timeout).
READY_WAIT = 90
_ready_pipe: int | None = None  # a new worker writes a byte here once it has loaded the app


def on_reload(server):
    import select
    import time

    global _ready_pipe
    read_end, _ready_pipe = os.pipe()
    try:
        new = [server.spawn_worker() for _ in range(server.num_workers)]
        booted, deadline = 0, time.monotonic() + READY_WAIT
        while booted < len(new) and (left := deadline - time.monotonic()) > 0:
            if select.select([read_end], [], [], min(left, 1.0))[0]:
                booted += len(os.read(read_end, 64))
        server.log.info("reload: %d of %d new workers ready, stopping the old ones", booted, len(new))
    finally:
        os.close(read_end)
        os.close(_ready_pipe)
        _ready_pipe = None
    # gunicorn's reload now starts `workers` more and stops all but the newest `num_workers`:
    # none more, so the ones just started stay and every old one stops.
    server.cfg.set("workers", 0)


def post_worker_init(worker):
    if _ready_pipe is not None:  # started by on_reload
        os.write(_ready_pipe, b"1")
