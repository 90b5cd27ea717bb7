#!/usr/bin/env bash
# The Debian packages the test suites need, installed when missing: `npm test` runs this first, so
# `npm install && npm test` passes on a fresh Debian machine with no other step.
#
# - Everything present: exits 0 at once. Each check is a file test, no apt or dpkg call.
# - Something missing and this may install (root, or `sudo -n true` works): installs exactly what
#   is missing with apt-get, non-interactively, with the packages' own services kept from
#   starting (the suites start their own PostgreSQL, MariaDB, php-fpm and nginx on free ports).
# - Something missing and this may not install: stops at once, exit 1, printing the command to
#   run, naming only what is missing.
#
# SYSTEM_PACKAGES_ROOT (tests only) is prepended to every path this script checks or writes, so a
# test can make a package look missing without touching the machine.
set -euo pipefail

# One line per package: the Debian package, then what shows it is installed (a path, globs
# allowed, or the name of a check function below), then who needs it. A suite that needs a new
# package adds a line. Order matters only within one install: `php` and `nginx` come before
# `wordpress`, so apt takes them for its "libapache2-mod-php | php" and "apache2 | httpd"
# dependencies instead of pulling in apache2.
PACKAGES=(
  'postgresql      postgres_server                        test/setup/global.ts: the throwaway PostgreSQL cluster of the store suites'
  'php-cli         /usr/bin/php                           the docs PHP snippets (test/login, test/readme); test/wordpress'
  'python3         /usr/bin/python3                       the docs Python snippets (test/login, test/readme)'
  'python3-jwt     /usr/lib/python3/dist-packages/jwt     test/tokens: PyJWT verifies the platform JWTs (HS256, RS256 with the JWKS)'
  'python3-cryptography /usr/lib/python3/dist-packages/cryptography  test/tokens: what PyJWT needs for RS256'
  'chromium        /usr/bin/chromium                      test/browser: the real-browser sign-in (playwright-core drives it)'
  'php             /var/lib/dpkg/info/php.list            test/wordpress: the metapackage that keeps apache2 out'
  'php-fpm         /usr/sbin/php-fpm8.2                   test/wordpress'
  'php-mysql       /usr/lib/php/*/mysqli.so               test/wordpress'
  'nginx           /usr/sbin/nginx                        test/wordpress; test/deploy: nginx in front, TLS'
  'mariadb-server  /usr/sbin/mariadbd                     test/wordpress'
  'wordpress       /usr/share/wordpress/wp-settings.php   test/wordpress'
  'openssl         /usr/bin/openssl                       test/deploy: a throwaway TLS certificate'
  'systemd         /usr/bin/systemd-analyze               test/deploy: systemd-analyze verify/security of the unit'
)

root="${SYSTEM_PACKAGES_ROOT:-}"

# The store suites need PostgreSQL's server binaries only when TEST_DATABASE_URL names no server;
# they are found as test/setup/postgres.ts finds them ($PG_BIN, Debian's directory, then PATH).
postgres_server() {
  [[ -n "${TEST_DATABASE_URL:-}" ]] && return 0
  local dir
  local -a dirs=()
  if [[ -n "${PG_BIN:-}" ]]; then
    dirs=("$PG_BIN")
  else
    dirs=("$root"/usr/lib/postgresql/*/bin)
    local IFS=:
    # shellcheck disable=SC2206 # PATH is split on ':' on purpose
    dirs+=($PATH)
  fi
  for dir in "${dirs[@]}"; do
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && return 0
  done
  return 1
}

present() {
  local probe=$1 match
  if [[ $probe != /* ]]; then
    "$probe"
    return
  fi
  for match in "$root"$probe; do
    [[ -e $match ]] && return 0
  done
  return 1
}

missing_packages() {
  local line pkg probe
  for line in "${PACKAGES[@]}"; do
    read -r pkg probe _ <<<"$line"
    present "$probe" || printf '%s\n' "$pkg"
  done
}

mapfile -t missing < <(missing_packages)
((${#missing[@]} == 0)) && exit 0

install="apt-get install -y --no-install-recommends ${missing[*]}"
as=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1 && sudo -n true </dev/null >/dev/null 2>&1; then
    as=(sudo)
  else
    {
      echo "[system-packages] the test suites need Debian packages that are missing: ${missing[*]}"
      echo '[system-packages] this user may not install them (not root, and no sudo without a password). Run:'
      echo
      echo "  sudo apt-get update && sudo $install"
      echo
      echo '[system-packages] then run npm test again. (The suites start their own servers: the'
      echo '[system-packages] services these packages start are not used.)'
    } >&2
    exit 1
  fi
fi

echo "[system-packages] installing what the test suites need: ${missing[*]}"
# Debian starts a package's service on install (postgresql's "main" cluster, nginx, mariadb);
# a policy-rc.d that exits 101 forbids it. Ours is removed afterwards; one already there is kept.
policy="$root/usr/sbin/policy-rc.d"
if [[ ! -e $policy ]]; then
  "${as[@]}" sh -c 'printf "#!/bin/sh\nexit 101\n" > "$1" && chmod +x "$1"' sh "$policy"
  # shellcheck disable=SC2064 # expand now: the path and the sudo prefix are fixed
  trap "${as[*]} rm -f '$policy'" EXIT
fi
"${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
# shellcheck disable=SC2086 # $install is split into words on purpose
"${as[@]}" env DEBIAN_FRONTEND=noninteractive $install </dev/null

mapfile -t still < <(missing_packages)
if ((${#still[@]})); then
  echo "[system-packages] still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
