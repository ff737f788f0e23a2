#!/usr/bin/env bash
# Proves the packages in dist/ before anything publishes them (the release workflow runs it after
# `npx projen release` and `npx projen package:python`; `.ci/run` runs it after the same tasks):
#
#   scripts/release-check.sh
#
# 1. dist/ holds exactly one npm tarball, one wheel and one sdist, each carrying the version of this
#    build: dist/version.txt when `npx projen release` bumped it (then dist/changelog.md and
#    dist/releasetag.txt must be there too), else package.json's (0.0.0: an untagged development
#    build). The tarball's package.json, the wheel's METADATA and the sdist's PKG-INFO say so, and the
#    `cdk-certificates` CLI inside the tarball prints it with --version;
# 2. synthesizes the example app in the repository (`npx projen example`, cdk.out/), the reference
#    both consumers compare with;
# 3. scripts/ts-consumer.sh floor: the tarball in a fresh TypeScript app that synthesizes, with every
#    handler bundle in the tarball and deployed as shipped;
# 4. scripts/python-consumer.sh floor: the wheel beside aws-cdk-lib from PyPI, the Python twin
#    synthesizes the same templates, every handler bundle in the wheel's embedded tarball
#    (scripts/package-python.sh --check-wheel).
#
# Set RELEASE_CHECK_ARTIFACTS_ONLY=1 to stop after step 1 (no synth, no install).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

log() { echo "[release-check] $*"; }
die() { echo "[release-check] ERROR: $*" >&2; exit 1; }

export CDK_DISABLE_VERSION_CHECK=1 AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true

# --- the version this build carries --------------------------------------------------------------
if [ -f dist/version.txt ]; then
  version=$(cat dist/version.txt)
  origin='dist/version.txt (npx projen release)'
  [ -s dist/changelog.md ] || die "dist/version.txt without dist/changelog.md: the bump did not write the CHANGELOG"
  [ "$(cat dist/releasetag.txt 2>/dev/null)" = "v$version" ] || die "dist/releasetag.txt is not v$version"
else
  version=$(node -p "require('./package.json').version")
  origin='package.json (no release bump)'
fi
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "'$version' from $origin is not a version"
if [ "$version" = 0.0.0 ]; then
  log "version $version from $origin: an untagged development build (npx projen release stamps the real one)"
else
  log "version $version from $origin"
fi

# --- the artifacts -------------------------------------------------------------------------------
one() { # <glob description> <files...>
  local what=$1
  shift
  [ $# -eq 1 ] && [ -f "$1" ] || die "expected one $what, found: ${*:-none}"
  echo "$1"
}
shopt -s nullglob
tarball=$(one "npm tarball in dist/js" dist/js/*.tgz)
wheel=$(one "wheel in dist/python" dist/python/*.whl)
sdist=$(one "sdist in dist/python" dist/python/*.tar.gz)
shopt -u nullglob

[ "$(basename "$tarball")" = "cdk-certificates@$version.jsii.tgz" ] \
  || die "$(basename "$tarball") is not cdk-certificates@$version.jsii.tgz"
# Python spells pre-releases its own way (1.0.0-beta.1 is 1.0.0b1): compare normalised versions.
py_version=$(/usr/bin/python3 -c 'import sys
try:
    from packaging.version import Version
    print(Version(sys.argv[1]))
except ImportError:
    print(sys.argv[1])' "$version")
[ "$(basename "$wheel")" = "cdk_certificates-$py_version-py3-none-any.whl" ] \
  || die "$(basename "$wheel") is not cdk_certificates-$py_version-py3-none-any.whl"
[ "$(basename "$sdist")" = "cdk_certificates-$py_version.tar.gz" ] \
  || die "$(basename "$sdist") is not cdk_certificates-$py_version.tar.gz"

unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$tarball" -C "$unpacked"
npm_version=$(node -p "require('$unpacked/package/package.json').version")
[ "$npm_version" = "$version" ] || die "$(basename "$tarball") holds package.json version $npm_version, not $version"
cli_version=$(node "$unpacked/package/assets/manifest/cli/main/index.js" --version)
expected_cli=$version
[ "$version" != 0.0.0 ] || expected_cli='0.0.0 (untagged development build)'
[ "$cli_version" = "$expected_cli" ] || die "the CLI in $(basename "$tarball") says --version '$cli_version', not '$expected_cli'"

/usr/bin/python3 - "$wheel" "$sdist" "$py_version" "$version" <<'EOF' || die "the Python packages do not carry version $py_version (above)"
import sys, tarfile, zipfile
wheel, sdist, version, npm_version = sys.argv[1:5]
def field(text, name):
    return next((l.split(':', 1)[1].strip() for l in text.splitlines() if l.startswith(name + ':')), None)
with zipfile.ZipFile(wheel) as z:
    meta = [n for n in z.namelist() if n.endswith('.dist-info/METADATA')]
    text = z.read(meta[0]).decode()
    embedded = [n for n in z.namelist() if n.endswith('.jsii.tgz')]
if field(text, 'Version') != version or field(text, 'Name') != 'cdk-certificates':
    sys.exit(f'{wheel}: METADATA says {field(text, "Name")} {field(text, "Version")}')
if [n.rsplit('/', 1)[-1] for n in embedded] != [f'cdk-certificates@{npm_version}.jsii.tgz']:
    sys.exit(f'{wheel}: embedded npm tarball(s) {embedded}, not cdk-certificates@{npm_version}.jsii.tgz')
with tarfile.open(sdist) as t:
    info = [m for m in t.getmembers() if m.name.count('/') == 1 and m.name.endswith('/PKG-INFO')]
    text = t.extractfile(info[0]).read().decode()
if field(text, 'Version') != version:
    sys.exit(f'{sdist}: PKG-INFO says version {field(text, "Version")}')
EOF
for f in "$tarball" "$wheel" "$sdist"; do
  log "$(printf '%-58s %9s bytes' "$f" "$(stat -c %s "$f")")"
done
log "all three carry version $version"

[ "${RELEASE_CHECK_ARTIFACTS_ONLY:-}" = 1 ] && exit 0

# --- installed as users install them -------------------------------------------------------------
log 'synthesizing the example app in the repository (npx projen example): the reference'
npx projen example >/dev/null
consumer_out=$(mktemp -d)
trap 'rm -rf "$unpacked" "$consumer_out"' EXIT
scripts/ts-consumer.sh floor "$consumer_out/ts-floor"
scripts/python-consumer.sh floor "$ROOT/cdk.out"
log "OK: cdk-certificates $version: npm tarball, wheel and sdist stamped; the tarball and the wheel install and synthesize"
