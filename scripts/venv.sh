# Sourced by the set-up scripts: make .venv and install the locked packages into it.
# usage: ensure_venv requirements.txt|requirements-dev.txt
ensure_venv() {
  local requirements=$1
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # Installing is skipped when nothing it reads has changed since the last install (a stamp in
  # .venv), so a second run starts at once; a changed lock or requirements file reinstalls.
  local stamp=".venv/.installed-${requirements%.txt}"
  local wanted
  wanted=$(cat "$requirements" requirements.txt constraints.txt pyproject.toml | sha256sum)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return 0
  fi
  # constraints.txt locks every version; requirements files only give the ranges.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -r "$requirements" -c constraints.txt
  # The distribution was called mta-sts-stack before it became a package others install.
  .venv/bin/python -m pip uninstall --quiet --disable-pip-version-check --yes mta-sts-stack 2>/dev/null || true
  # The package itself, editable, so Pulumi's dynamic-provider host can import it (pulumi/pulumi#7960).
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  # And the repository root, for the same host: providers pickled into existing stacks name the
  # shims in components/, which no wheel (and so no editable install) holds.
  local site
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  printf '%s\n' "$PWD" >"$site/mta-sts-repository.pth"
  printf '%s\n' "$wanted" >"$stamp"
}
