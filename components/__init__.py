"""Repository-only code next to the package's source (components/pulumi_mta_sts/, the wheel's
`pulumi_mta_sts`): no wheel ships this `components` package.

- `settings`: the program's reader of the stack config (`__main__.py` is its only user).
- `netlify.provider`, `polling`, `readiness`, `served`: import shims. Stacks deployed before the
  package was named `pulumi_mta_sts` hold dynamic providers pickled by reference to these
  module paths; `pulumi refresh`, `up` and `destroy` unpickle them in the provider host, which
  finds this folder through the `.pth` file `scripts/venv.sh` writes into `.venv`.
"""
