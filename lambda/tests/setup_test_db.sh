#!/usr/bin/env bash
# Usage: bash lambda/tests/setup_test_db.sh
#   Prepares an already installed and running MariaDB/MySQL server for the
#   integration tests in lambda/tests (it installs and starts nothing).
#   Creates database $TAP_TEST_DB_NAME (default tap_test) and user
#   $TAP_TEST_DB_USER / $TAP_TEST_DB_PASSWORD (default tap / tap) at
#   127.0.0.1 and localhost with ALL privileges (the tests create and drop one
#   database per test). Connects as the server's admin: by default
#   `mysql -uroot` over the local socket (Debian's root uses unix_socket
#   auth when run as root); override with MYSQL_ADMIN="mysql -uroot -psecret -h127.0.0.1".
#   Idempotent: safe to run again.
set -euo pipefail

name="${TAP_TEST_DB_NAME:-tap_test}"
user="${TAP_TEST_DB_USER:-tap}"
password="${TAP_TEST_DB_PASSWORD:-tap}"
admin="${MYSQL_ADMIN:-mysql -uroot}"

for value in "$name" "$user"; do
  if [[ ! "$value" =~ ^[A-Za-z0-9_]+$ ]]; then
    echo "setup_test_db.sh: refusing unsafe identifier '$value'" >&2
    exit 2
  fi
done
password_sql=${password//\'/\'\'}

$admin <<SQL
CREATE DATABASE IF NOT EXISTS \`$name\`;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password_sql';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password_sql';
GRANT ALL ON *.* TO '$user'@'127.0.0.1';
GRANT ALL ON *.* TO '$user'@'localhost';
FLUSH PRIVILEGES;
SQL
echo "setup_test_db.sh: database '$name' and user '$user' ready"
