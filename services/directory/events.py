"""Events the directory service emits."""
from eoffice.events import EventPayload


class OrganisationImported(EventPayload):
    event_type = "eoffice.directory.organisation-imported.v1"
    created: dict[str, int]
    changed: dict[str, int]
    rejected: int


class PostHandedOver(EventPayload):
    """The post has a new regular holder; its pending work is theirs now."""
    event_type = "eoffice.directory.post-handed-over.v1"
    post_code: str
    employee_id: str
    start_date: str
    previous_holders: list[str]


class DelegationCreated(EventPayload):
    event_type = "eoffice.directory.delegation-created.v1"
    from_post: str
    to_post: str
    start_date: str
    end_date: str
