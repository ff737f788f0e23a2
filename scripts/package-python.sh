#!/usr/bin/env bash
# Builds the Python distribution (wheel + sdist) into dist/python.
#
# jsii-pacmak's own Python build pip-installs pinned build tools (setuptools~=75, build~=1.5) that
# cannot be installed here, so pacmak only generates the sources and Debian's python3-build packages
# them. Runs after `jsii` (needs .jsii) and after the handler bundles exist in assets/ (they ship in
# the npm tarball that jsii embeds in the wheel).
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian's interpreter, not the pyenv one that may come first on PATH: python3-build and twine are
# Debian packages.
PY=/usr/bin/python3
OUT=dist/python

log() { echo "[package-python] $*"; }
die() { echo "[package-python] ERROR: $*" >&2; exit 1; }

# The wheel embeds the npm tarball; every handler under lambda/<name>/index.ts must be bundled
# inside it. Shared: scripts/python-consumer.sh runs it (through --check-wheel) on the wheel it installs.
check_wheel_handlers() {
  local wheel=$1 embedded entry name
  embedded=$("$PY" - "$wheel" <<'EOF'
import io, sys, tarfile, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    tgz = [n for n in whl.namelist() if n.endswith('.jsii.tgz')]
    if len(tgz) != 1:
        sys.exit(f'expected one embedded .jsii.tgz, found {tgz}')
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz[0])), mode='r:gz') as tar:
        for name in tar.getnames():
            print(name)
EOF
  ) || die "cannot read the npm tarball embedded in $wheel"
  for entry in lambda/*/index.ts; do
    [ -e "$entry" ] || continue
    name=$(basename "$(dirname "$entry")")
    grep -qxF "package/assets/lambda/$name/index/index.js" <<<"$embedded" \
      || die "wheel's embedded npm tarball lacks package/assets/lambda/$name/index/index.js"
  done
  log "embedded npm tarball holds $(grep -c '^package/assets/lambda/.*/index\.js$' <<<"$embedded" || true) handler bundle(s)"
}

# `package-python.sh --check-wheel <wheel>` runs only that check.
if [ "${1:-}" = --check-wheel ]; then
  [ -f "${2:-}" ] || die "usage: $0 --check-wheel <wheel>"
  check_wheel_handlers "$2"
  exit 0
fi

[ -f .jsii ] || die ".jsii not found: compile first (npx projen compile)."
[ -x "$PY" ] || die "$PY not found: install Debian's python3."

if ! "$PY" -c 'import build, twine' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing python3-build and twine with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-build twine >/dev/null
  else
    die "python3-build and twine are missing: run 'apt-get install -y python3-build twine' as root."
  fi
fi

# Every handler under lambda/<name>/index.ts must be bundled before it can ship in the package.
missing=()
for entry in lambda/*/index.ts; do
  [ -e "$entry" ] || continue
  name=$(basename "$(dirname "$entry")")
  [ -f "assets/lambda/$name/index/index.js" ] || missing+=("assets/lambda/$name/index/index.js")
done
[ ${#missing[@]} -eq 0 ] || die "handler bundles missing (run npx projen bundle): ${missing[*]}"

# Rosetta translates the README's TypeScript examples into Python; pacmak reads the tablet next to
# .jsii. A tablet older than the assembly may lack new snippets, which would then ship as TypeScript.
if [ ! -f .jsii.tabl.json ] || [ .jsii -nt .jsii.tabl.json ]; then
  log "extracting code samples (jsii-rosetta extract --compile)"
  npx jsii-rosetta extract --compile
fi

log "generating Python sources (jsii-pacmak --code-only)"
rm -rf "$OUT"
npx jsii-pacmak -v --target python --code-only --force

# Build from a copy so dist/python ends up holding only the artifacts, as projen's publisher expects.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -a "$OUT/." "$stage/"
rm -rf "$OUT"
mkdir -p "$OUT"

# TypeScript left in a Python code block means rosetta did not translate it.
if grep -nE '^(import \{|const |let )' "$stage/README.md"; then
  die "README.md for Python still contains TypeScript (lines above): check jsii-rosetta extract."
fi

log "building wheel and sdist"
# --skip-dependency-check: the generated pyproject pins setuptools/build versions newer than
# Debian's; the Debian ones build this pure-Python package the same way.
"$PY" -m build --no-isolation --skip-dependency-check --outdir "$OUT" "$stage"

# Debian's setuptools (66) names the sdist cdk-certificates-X.tar.gz; PyPI is phasing out sdist names
# that are not normalized (PEP 625: cdk_certificates-X.tar.gz, same top-level folder). Repack it.
"$PY" - "$OUT" <<'EOF'
import io, os, re, sys, tarfile
out = sys.argv[1]
for fname in os.listdir(out):
    if not fname.endswith('.tar.gz'):
        continue
    stem = fname[:-len('.tar.gz')]
    name, version = stem.rsplit('-', 1)
    norm = re.sub(r'[-_.]+', '_', name).lower()
    if norm == name:
        continue
    src, dst = os.path.join(out, fname), os.path.join(out, f'{norm}-{version}.tar.gz')
    with tarfile.open(src, 'r:gz') as old, tarfile.open(dst, 'w:gz', format=tarfile.PAX_FORMAT) as new:
        for member in old.getmembers():
            data = old.extractfile(member).read() if member.isfile() else None
            if not (member.name == stem or member.name.startswith(stem + '/')):
                sys.exit(f'unexpected path in sdist: {member.name}')
            member.name = norm + '-' + version + member.name[len(stem):]
            new.addfile(member, io.BytesIO(data) if data is not None else None)
    os.remove(src)
    print(f'[package-python] renamed sdist {fname} -> {os.path.basename(dst)}')
EOF

wheels=("$OUT"/*.whl)
sdists=("$OUT"/*.tar.gz)
[ -f "${wheels[0]}" ] || die "no wheel in $OUT"
[ -f "${sdists[0]}" ] || die "no sdist in $OUT"

check_wheel_handlers "${wheels[0]}"

log "twine check"
"$PY" -m twine check --strict "$OUT"/*

log "done: $(cd "$OUT" && printf '%s ' *)"
