"""The CrossGuard policy pack for the mta-sts stack (`pulumi preview --policy-pack policy`).

`view` reads the preview's resources into a stack view, once per run; `validators/` holds
the rules by area, each asking the `mtasts` core (`mtasts.rules`); `registry` lists them
with their levels; `__main__.py` only builds the `PolicyPack`. Everything is importable from
the repository root, so tests call the rules as the analyzer does.
"""
