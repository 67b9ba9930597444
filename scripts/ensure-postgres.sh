#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, postgres) are present for
# the throwaway clusters of test/pgtest, installing Debian's postgresql-15
# when they are missing, and that the unprivileged "postgres" user exists
# (PostgreSQL refuses to run as root).
set -euo pipefail

have_pg() {
	command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if ! have_pg; then
	echo "PostgreSQL binaries not found; installing postgresql-15 from Debian packages" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: need root (or sudo) to apt-get install postgresql-15; install it and rerun" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null || \
		apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	# Debian's package starts a cluster of its own; the tests do not use it.
	command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster --force 15 main stop >/dev/null 2>&1 || true
fi

if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
	useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
fi

for b in /usr/lib/postgresql/*/bin/initdb; do
	[ -x "$b" ] && { echo "PostgreSQL: $("$b" --version)"; exit 0; }
done
echo "PostgreSQL: $(initdb --version)"
