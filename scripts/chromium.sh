#!/usr/bin/env bash
# Chromium for the page tests, from Debian's packages if missing, with a CJK font so that
# Chinese renders; prints the browser's path. Nothing downloads a browser of its own.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]} from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
command -v chromium
