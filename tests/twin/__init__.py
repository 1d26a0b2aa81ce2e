"""A twin of an MTA-STS deployment on real servers (NSD, nginx) inside a network namespace.

Built from the stack's desired state; see `site.py` (what one domain serves), `faults.py`
(what can go wrong with it) and `servers.py` (the namespace and the servers).
"""

from .faults import FAULTS, Fault
from .servers import (
    DNS_ADDRESS,
    PROBE,
    REPO_ROOT,
    WEB_ADDRESS,
    WEB_ADDRESSES_V4,
    WEB_ADDRESSES_V6,
    Twin,
    missing_requirements,
    server_test_marks,
)
from .site import PROTON_MX, Certificate, Site, site_from_state

__all__ = [
    "DNS_ADDRESS",
    "FAULTS",
    "PROBE",
    "PROTON_MX",
    "REPO_ROOT",
    "WEB_ADDRESS",
    "WEB_ADDRESSES_V4",
    "WEB_ADDRESSES_V6",
    "Certificate",
    "Fault",
    "Site",
    "Twin",
    "missing_requirements",
    "server_test_marks",
    "site_from_state",
]
