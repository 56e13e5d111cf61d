#!/usr/bin/env bash
# Compares two output roots of `pure run` file by file (every Parquet part, manifest and config), e.g. the
# same sweeps run before and after a refactor into different --out folders:
#   bash test/dev/same-outputs.sh /tmp/before-out /tmp/after-out
# config.json files name their own --out root; that one field is left out of the comparison.
# Exits 1 on any difference, listing the files that differ or exist on one side only.
set -euo pipefail
A="$(cd "$1" && pwd)"
B="$(cd "$2" && pwd)"
digest() {
  local root="$1" file="$2"
  if [[ "$(basename "$file")" == config.json ]]; then
    grep -v '"outUri":' "$root/$file" | sha256sum | cut -d' ' -f1
  else
    sha256sum "$root/$file" | cut -d' ' -f1
  fi
}
listing() { (cd "$1" && find . -type f ! -path './*/report/*' | sort); }
diff <(listing "$A") <(listing "$B") >/dev/null || {
  echo "different file sets:"
  diff <(listing "$A") <(listing "$B") | head -20
  exit 1
}
same=0
differ=0
while IFS= read -r file; do
  if [[ "$(digest "$A" "$file")" == "$(digest "$B" "$file")" ]]; then
    same=$((same + 1))
  else
    differ=$((differ + 1))
    echo "differs: $file"
  fi
done < <(listing "$A")
echo "$same files identical, $differ different ($A vs $B)"
[[ $differ -eq 0 ]]
