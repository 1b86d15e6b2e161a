"""What the files service's entry points accept. The requests are defined once, in the shared
contract eoffice.contracts.files (the gateway builds them from HTTP); files' own code names them
from here."""

from eoffice.contracts.files import (  # noqa: F401
    CategoryLimit,
    CreateFile,
    Document,
    Draft,
    EditNote,
    FilesQuery,
    Flag,
    Link,
    Note,
    Refs,
    Remarks,
    Revise,
    Scheme,
    SendFile,
    StoredDocument,
    SubjectHead,
    Version,
    Withdrawal,
)
