"""Entry point Pulumi runs for `--policy-pack policy`: build the PolicyPack, nothing else.

Constructing `PolicyPack` starts the analyzer's gRPC server and blocks until the engine
stops it, so the rules live in `policy/validators/` and `policy/registry.py`, where tests can import them.
"""

import sys
from pathlib import Path

# Pulumi runs this file with policy/ as sys.path[0]; the rules import the `mtasts` core
# from the repository root, one directory up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.registry import all_policies

PolicyPack(
    name="mta-sts",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=all_policies(),
)
