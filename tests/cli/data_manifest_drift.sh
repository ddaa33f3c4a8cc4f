#!/usr/bin/env bash
# `marill data manifest --check`: files that differ while the Debian package versions are the
# manifest's are an error (the build does not reproduce); files that differ because packages are
# newer are a warning, recorded in DATA/package_drift.txt; a clean check removes that note.
# Usage: data_manifest_drift.sh MARILL_BINARY
set -euo pipefail
marill="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/data"
for f in pretrain.jsonl translate.train.jsonl translate.test.jsonl code.train.jsonl code.test.jsonl spm.vocab pretrain.tok; do
  echo "content of $f" >"$dir/data/$f"
done
echo '{"pretrain.jsonl": 1}' >"$dir/data/counts.json"
printf 'libfoo\t1.0-1\nlibbar\t2.0-1\n' >"$dir/old.tsv"
printf 'libfoo\t1.0-1+deb12u1\nlibbar\t2.0-1\n' >"$dir/new.tsv"
"$marill" data manifest --data "$dir/data" --write "$dir/manifest.json" --packages "$dir/old.tsv"
"$marill" data manifest --data "$dir/data" --check "$dir/manifest.json" --packages "$dir/old.tsv"

echo "changed" >>"$dir/data/code.test.jsonl"
if "$marill" data manifest --data "$dir/data" --check "$dir/manifest.json" --packages "$dir/old.tsv" 2>"$dir/err"; then
  echo "FAIL: a mismatch with equal package versions passed"; exit 1
fi
grep -q "not reproducing" "$dir/err" || { echo "FAIL: no 'not reproducing' in: $(cat "$dir/err")"; exit 1; }

"$marill" data manifest --data "$dir/data" --check "$dir/manifest.json" --packages "$dir/new.tsv" 2>"$dir/err" ||
  { echo "FAIL: explained drift stopped the check: $(cat "$dir/err")"; exit 1; }
grep -q "WARNING" "$dir/err" || { echo "FAIL: no warning in: $(cat "$dir/err")"; exit 1; }
grep -q "package libfoo 1.0-1 -> 1.0-1+deb12u1" "$dir/data/package_drift.txt" || { echo "FAIL: drift not recorded"; exit 1; }
grep -q "code.test.jsonl" "$dir/data/package_drift.txt" || { echo "FAIL: the differing file not recorded"; exit 1; }

sed -i '$d' "$dir/data/code.test.jsonl"
"$marill" data manifest --data "$dir/data" --check "$dir/manifest.json" --packages "$dir/old.tsv"
[ ! -e "$dir/data/package_drift.txt" ] || { echo "FAIL: a stale drift note survived a clean check"; exit 1; }
echo "data manifest drift: 4 checks passed"
