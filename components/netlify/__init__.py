"""Import path of state written before the package was `pulumi_mta_sts` (see components/__init__.py)."""
