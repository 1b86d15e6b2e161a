"""Events the directory service emits. Each is defined once, in the shared contract
eoffice.contracts.directory (catalogue: docs/events.md); the directory's code names them from here."""

from eoffice.contracts.directory import DelegationCreated, OrganisationImported, PostHandedOver  # noqa: F401
