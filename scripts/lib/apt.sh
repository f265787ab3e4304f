# Sourced by scripts/install/*.sh: installs Debian packages, refreshing the package lists at most once
# per machine boot (a fresh machine has none), and keeps packages from starting their own services
# (the test harness starts brokers itself on ephemeral ports).
bp_apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  local marker=/tmp/.bp-apt-updated
  if [ ! -e "$marker" ]; then
    apt-get update -qq >/dev/null
    touch "$marker"
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
