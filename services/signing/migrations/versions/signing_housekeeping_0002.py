"""Indexes by which signature and registration requests never completed are forgotten some days
after they expired (eoffice.housekeeping): each holds only the requests still open."""
from eoffice.migrate import create_indexes
from services.signing.models import certificate_requests, signature_requests

revision = "signing_housekeeping_0002"
down_revision = "signing_certificates_0004"


def upgrade():
    create_indexes(*certificate_requests.indexes, *signature_requests.indexes)
