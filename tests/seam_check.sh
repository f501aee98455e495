#!/usr/bin/env bash
# The seam check: the node core and every library it links may reach the world only
# through struct evc_env. Lists each object's undefined symbols (nm -u), drops those that
# the checked libraries define themselves, and fails on any symbol outside the allow-list
# (tests/seam_allowlist.txt). Usage: seam_check.sh ALLOWLIST LIB.a...
set -euo pipefail
allow=$1; shift
[ $# -gt 0 ] || { echo "seam_check: no libraries given" >&2; exit 2; }

defined=$(nm --defined-only -g "$@" 2>/dev/null | awk 'NF>=3 {print $3}' | sort -u)
global_re=$(grep -v '^#' "$allow" | awk 'NF==1 {print $1}' | paste -sd'|')
bad=0
checked=0
for lib in "$@"; do
  obj=""
  while IFS= read -r line; do
    case "$line" in
      *.o:) obj=${line%:}; continue ;;
      "") continue ;;
    esac
    sym=$(echo "$line" | awk '{print $NF}')
    checked=$((checked + 1))
    if grep -qxF "$sym" <<<"$defined"; then
      # defined by a checked library; a few evc symbols are still off limits to the core
      if grep -qE "^$sym$" <(grep -v '^#' "$allow" | awk '$1=="deny" {print $2}'); then
        echo "seam_check: $(basename "$lib")($obj) calls '$sym', which the core must never call"
        bad=1
      fi
      continue
    fi
    if [[ "$sym" =~ $global_re ]]; then continue; fi
    local_re=$(grep -v '^#' "$allow" | awk -v o="$obj" '$1==o {print $2}' | paste -sd'|')
    if [ -n "$local_re" ] && [[ "$sym" =~ $local_re ]]; then continue; fi
    echo "seam_check: $(basename "$lib")($obj) uses '$sym', outside the allow-list"
    bad=1
  done < <(nm -u "$lib" 2>/dev/null)
done
if [ $bad -ne 0 ]; then
  echo "seam_check: FAILED: the core must reach the world only through struct evc_env"
  exit 1
fi
echo "seam_check: ok: $checked undefined references in $# libraries, all allowed"
