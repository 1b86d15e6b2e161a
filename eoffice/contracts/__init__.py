"""The contracts between the services, published once: what crosses a service boundary.

- the events each service emits (`EventPayload` subclasses, one versioned `event_type` each,
  with a docstring saying what happened), which other services and external portals read;
- the requests a service accepts over RPC (and the gateway builds from HTTP), and the value
  types they share (`common`: post codes, priorities, pages);
- names both sides must agree on: object-store folders, queue names, role names.

One module per service (`directory`, `dak`, `files`). A service imports its own and others'
contracts from here and nothing from another service's package (tests/unit/test_architecture.py
checks it). `python -m eoffice.contracts.catalogue --write` turns the events into
docs/events.md, the catalogue external portals read."""
