"""What the directory's entry points accept, checked before anything is done. The requests are
defined once, in the shared contract eoffice.contracts.directory (and its shared value types in
eoffice.contracts.common); the directory's code names them from here."""

from eoffice.contracts.common import DateRange, Page  # noqa: F401
from eoffice.contracts.directory import Delegate, HandOver, ImportRequest  # noqa: F401
