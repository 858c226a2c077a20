#!/bin/sh
# Initialises the data dir on first start (trust auth from anywhere: a throw-away test server), then runs Postgres.
set -e
D=/var/lib/postgresql/data
if [ ! -f "$D/PG_VERSION" ]; then
  initdb -D "$D" -U postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
  echo "host all all all trust" >>"$D/pg_hba.conf"
fi
exec postgres -D "$D" -c listen_addresses='*' -k /tmp
