"""The program's start-up stays small (bench/startup.py): a run under mocks loads none of the
libraries that only some paths need, which their modules import where they are used."""

from __future__ import annotations

import subprocess
import sys

from bench.startup import PROGRAM
from tests.pulumi_mocks import PROJECT_DIR

# Each is imported by the code that needs it, never on the program's common path: the Netlify
# transport (httpx), polling (tenacity), `verify` and `reports` with their DNS, TLS and IMAP
# libraries, Unicode host names (idna), a misspelt key's suggestion (difflib), scrubbing (html),
# and the harness's own probe swap (unittest.mock).
NOT_ON_THE_PROGRAM_PATH = [
    "httpx",
    "tenacity",
    "dns",
    "cryptography",
    "imapclient",
    "orjson",
    "mtasts.verify",
    "mtasts.reports",
    "idna",
    "difflib",
    "html",
    "unittest.mock",
]


def test_a_run_under_mocks_loads_no_library_it_does_not_use() -> None:
    listing = PROGRAM + "import sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", listing], cwd=PROJECT_DIR, check=True, capture_output=True, text=True
    )
    loaded = set(result.stdout.split())
    assert "pulumi_mta_sts.domain" in loaded  # the program ran
    assert sorted(loaded & set(NOT_ON_THE_PROGRAM_PATH)) == []
