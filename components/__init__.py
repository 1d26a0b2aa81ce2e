"""Pulumi components: map the `mtasts` desired state onto provider resources, nothing more.

Each component takes values the core already computed (records, files, policy text) and
never derives a record value itself. `__main__.py` composes them in the order that
matters: serve the policy, confirm it is served, then advertise it (RFC 8461 §8).
"""
