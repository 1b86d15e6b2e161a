"""The workload of eoffice/workload.py, for the tests (the fault suite): a state's everyday work
through the gateway, open-loop at a target rate, with a ledger of every acknowledged result.
Its docstring there is the contract."""
from eoffice.tools.workload import (  # noqa: F401
    MIX,
    Desk,
    Ledger,
    Organisation,
    Outcome,
    Result,
    Signer,
    Workload,
    percentile,
)
