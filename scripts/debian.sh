# Sourced by scripts/test: install Debian packages for the real-server tests, as root, and leave
# the machine as it was otherwise. usage: ensure_debian_packages PACKAGE...
#
# The tests start private servers in network namespaces, so no system daemon may start:
# policy-rc.d answers 101 ("action forbidden") while apt-get runs, and is removed on every
# exit path unless it was there before. Units that the installation enabled for boot are
# disabled again (never stopped: none was started); units the machine already had enabled,
# such as its own nginx, are left alone.
POLICY_RC_D=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
SYSTEMD_UNITS=${SYSTEMD_UNITS:-/etc/systemd/system}

enabled_units() {
  find "$SYSTEMD_UNITS" -path '*.wants/*' \( -type l -o -type f \) 2>/dev/null | sort
}

ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  (
    set -e
    if [ ! -e "$POLICY_RC_D" ]; then
      trap 'rm -f "$POLICY_RC_D"' EXIT
      trap 'exit 130' INT TERM HUP # exit through the EXIT trap
      printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
      chmod +x "$POLICY_RC_D"
    fi
    local before link
    before=$(enabled_units)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    for link in $(comm -13 <(printf '%s\n' "$before") <(enabled_units)); do
      systemctl disable --quiet "$(basename "$link")" 2>/dev/null || rm -f "$link"
    done
  )
}
