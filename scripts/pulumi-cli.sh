# Sourced by scripts/deploy and scripts/pulumi: the one Pulumi CLI and state backend both use.
#   ensure_pulumi_cli   find the CLI, or install it into ~/.pulumi/bin; refuse one older than 3.200
#   choose_backend      PULUMI_BACKEND_URL when set, else local files (file://~, i.e. ~/.pulumi),
#                       for the processes these scripts start only; never `pulumi login`

install_pulumi() {
  local installer
  installer=$(mktemp) || return 1
  command -v curl >/dev/null 2>&1 &&
    curl -fsSL --connect-timeout 20 --max-time 300 https://get.pulumi.com -o "$installer" &&
    sh "$installer" --silent
  local status=$?
  rm -f "$installer"
  return $status
}

ensure_pulumi_cli() {
  if ! command -v pulumi >/dev/null 2>&1; then
    if [ ! -x "$HOME/.pulumi/bin/pulumi" ]; then
      echo "Installing the Pulumi CLI into ~/.pulumi/bin (https://www.pulumi.com/docs/iac/download-install/)" >&2
      if ! install_pulumi >&2; then
        cat >&2 <<'MSG'
The Pulumi CLI is not installed, and installing it automatically failed (no curl, or no
connection to get.pulumi.com). Install it by hand, then run this command again:
  curl -fsSL https://get.pulumi.com | sh          # Linux and macOS, into ~/.pulumi/bin
  brew install pulumi/tap/pulumi                  # macOS with Homebrew
  https://www.pulumi.com/docs/iac/download-install/ for Windows and other ways.
Nothing was changed.
MSG
        exit 1
      fi
    fi
    export PATH="$HOME/.pulumi/bin:$PATH"
  fi
  # 3.200 or newer: imports records that differ and then updates them in the same `up`
  # (pulumi/pulumi#19339), and understands `type: object` config in Pulumi.yaml.
  local version
  version=$(pulumi version | sed 's/^v//')
  if [ "$(printf '%s\n' 3.200.0 "$version" | sort -V | head -n 1)" != 3.200.0 ]; then
    echo "Pulumi CLI $version is too old: 3.200 or newer is needed (pulumi self-update, or reinstall)" >&2
    exit 2
  fi
}

# The backend URL as it may be printed: a user name and password (postgres://user:pass@host/db)
# and a query (an Azure SAS token, ?sig=...) are credentials, and CI logs keep stderr.
shown_backend() {
  printf '%s\n' "$1" | sed -e 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/?\#@]*@#\1…@#' -e 's#?.*#?…#'
}

# The state backend, for the processes the script starts only (pulumi/pulumi#5789).
choose_backend() {
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    echo "State backend: $(shown_backend "$PULUMI_BACKEND_URL") (from PULUMI_BACKEND_URL)" >&2
  else
    export PULUMI_BACKEND_URL="file://~"
    echo "State backend: local files in ~/.pulumi (PULUMI_BACKEND_URL is unset). Your 'pulumi login'" \
      "is left unchanged; to keep state elsewhere, export PULUMI_BACKEND_URL (https://api.pulumi.com," \
      "s3://bucket, ...) and run this again." >&2
  fi
}
