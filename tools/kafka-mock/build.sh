#!/usr/bin/env bash
# Builds tools/kafka-mock/kafka-mock from kafka-mock.c against Debian's librdkafka-dev
# (apt-get install -y librdkafka-dev gcc). Idempotent: does nothing when the binary is newer
# than its source and this script. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/kafka-mock.c"
bin="$here/kafka-mock"

if [[ -x "$bin" && "$bin" -nt "$src" && "$bin" -nt "$here/build.sh" ]]; then
  echo "$bin"
  exit 0
fi

if [[ ! -f /usr/include/librdkafka/rdkafka_mock.h ]]; then
  echo "kafka-mock: librdkafka headers missing; run: apt-get install -y librdkafka-dev gcc" >&2
  exit 1
fi

# Build to a temporary name, then rename: a concurrent run never sees a half-written binary.
tmp="$(mktemp "$bin.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp" "$src" -lrdkafka
chmod 755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "$bin"
