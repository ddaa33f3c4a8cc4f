#!/usr/bin/env bash
# Builds marill's datasets and tokenizer into data/ from files that Debian 12 packages install,
# deterministically, and checks them against the committed manifest (scripts/data/manifest.json).
#   bash scripts/data/build.sh            build + check (a mismatch is reported; package versions are
#                                         recorded in the manifest, a newer package can change the data)
#   bash scripts/data/build.sh --write    build + (re)write the manifest
# Public pre-training corpus: English prose and man pages, German man pages (manpages-de), Python
# code of third-party modules (dist-packages). Private tasks: German->English pairs from gettext
# catalogs; Python standard-library functions for code completion. Tokenizer: sentencepiece
# unigram trained on the public corpus only (spm_train).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE="${1:---check}"
VOCAB="${MARILL_VOCAB:-4096}"

MO_PKGS=(adduser apt appstream bash binutils-common coreutils diffutils dpkg findutils gettext gettext-base git
  gnupg-l10n grep gsettings-desktop-schemas iso-codes krb5-locales libapt-pkg6.0 libc-l10n libdpkg-perl libelf1
  libexif12 libglib2.0-data libgnutls30 libgtk2.0-common libgdk-pixbuf2.0-common libgstreamer1.0-0
  libgstreamer-plugins-base1.0-0 libpam-runtime libpq5 login make man-db net-tools packagekit postgresql-client-15
  procps psmisc sed shared-mime-info systemd tar wget xkb-data xz-utils)
MAN_PKGS=(manpages manpages-dev coreutils bash git-man tar grep sed findutils diffutils make dpkg apt util-linux
  procps man-db gettext openssl gnupg wget systemd cmake)
DOC_PKGS=(base-files "${MAN_PKGS[@]}")
PY_PKGS=(python3-pip python3-setuptools python3-pygments python3-pyflakes python3-pyparsing python3-six python3-yaml
  python3-httplib2 python3-oauthlib python3-jwt python3-toml python3-apt python3-wheel python3-cryptography
  python3-distro python3-dbus)
STDLIB_PKGS=(libpython3.11-stdlib libpython3.11-minimal)
ALL=("${MO_PKGS[@]}" "${MAN_PKGS[@]}" manpages-de "${PY_PKGS[@]}" "${STDLIB_PKGS[@]}" sentencepiece gzip)

missing=()
for p in "${ALL[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "data: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# man and doc files are excluded by some minimal images (dpkg path-exclude): they must be there
if [ ! -f /usr/share/man/man1/ls.1.gz ] || [ ! -f /usr/share/locale/de/LC_MESSAGES/coreutils.mo ]; then
  echo "data: this system drops man pages or locale files at install (/etc/dpkg/dpkg.cfg.d path-exclude);" >&2
  echo "      remove those excludes and reinstall the packages above" >&2
  exit 1
fi

MARILL="${MARILL_BIN:-./build/marill}"
[ -n "${MARILL_BIN:-}" ] || bash scripts/build.sh >/dev/null
mkdir -p data/lists
list() { for p in "$@"; do dpkg -L "$p" 2>/dev/null || true; done; }
list "${MO_PKGS[@]}" | grep -E '^/usr/share/locale/de/LC_MESSAGES/.*\.mo$' | sort -u >data/lists/mo.txt
list "${MAN_PKGS[@]}" | grep -E '^/usr/share/man/man[1-8]/[^/]+\.gz$' | sort -u >data/lists/man_en.txt
list manpages-de | grep -E '^/usr/share/man/de/man[1-8]/[^/]+\.gz$' | sort -u >data/lists/man_de.txt
{ ls -d /usr/share/common-licenses/*; list "${DOC_PKGS[@]}" |
  grep -E '^/usr/share/doc/[^/]+/((README|NEWS|FAQ|AUTHORS|THANKS|TODO)[^/]*|[^/]+\.txt(\.gz)?)$'; } |
  sort -u >data/lists/prose.txt
list "${PY_PKGS[@]}" | grep -E '^/usr/lib/python3/dist-packages/.*\.py$' | sort -u >data/lists/pycode.txt
list "${STDLIB_PKGS[@]}" | grep -E '^/usr/lib/python3\.11/.*\.py$' | grep -vE '/(test|tests|idle_test|idlelib)/' |
  sort -u >data/lists/stdlib.txt
for p in "${ALL[@]}"; do dpkg-query -W -f='${Package}\t${Version}\n' "$p"; done | sort -u >data/lists/packages.tsv
wc -l data/lists/*.txt

"$MARILL" data build --lists data/lists --out data --vocab "$VOCAB"
if [ "$MODE" = "--write" ]; then
  "$MARILL" data manifest --data data --write scripts/data/manifest.json --packages data/lists/packages.tsv
else
  "$MARILL" data manifest --data data --check scripts/data/manifest.json --packages data/lists/packages.tsv
fi
