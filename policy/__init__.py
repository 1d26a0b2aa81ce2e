"""The CrossGuard policy pack for the mta-sts stack (`pulumi preview --policy-pack policy`).

The rules live in `policy.mtasts_rules`, importable from the repository root (tests import
`policy.mtasts_rules`); `__main__.py` only builds the `PolicyPack`.
"""
