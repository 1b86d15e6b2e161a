"""What the dak service's entry points accept. The requests are defined once, in the shared
contract eoffice.contracts.dak (the gateway builds them from HTTP); dak's own code names them
from here. What follows them is dak's alone."""

from eoffice.contracts.dak import Correct, Diarise, InboxQuery, Letter, PutInFile, Remarks, ScanRef, Send  # noqa: F401

# Rule 9: these never change once the receipt has moved (diarised_at never changes at all).
FROZEN_AFTER_MOVE = ("received_date", "letter_date", "mode")
