#!/usr/bin/env bash
# A real Python consumer of the built wheel.
#
#   scripts/python-consumer.sh <floor|newest|X.Y.Z> <typescript cdk.out>
#
# 1. checks that the npm tarball embedded in dist/python/*.whl holds every handler bundle (the
#    check of scripts/package-python.sh, shared through its --check-wheel mode);
# 2. creates a virtual environment in a temporary folder and installs, from PyPI, aws-cdk-lib
#    (floor: the peer-dependency floor of package.json; newest: the latest release; or a version),
#    constructs and jsii, and the wheel;
# 3. synthesizes examples/python/app.py with the aws-cdk CLI of node_modules/.bin/cdk, offline and
#    with JSII_DEPRECATED=fail (a deprecated aws-cdk-lib API throws);
# 4. asserts that every template equals the one of the same path in the TypeScript synth given as
#    the second argument (at the floor, `npx projen example` writes it into cdk.out/), after the
#    normalisations listed in normalise() below; on a difference it prints the first differing
#    path and exits 1;
# 5. extracts the README's Python quick start (the ```python block of "## Quick start"), runs it
#    with the CLI in the same environment and checks its template, so the README's Python cannot rot.
#
# Needs: the wheel (npx projen compile && npx projen package:js && npx projen package:python),
# node_modules (npm ci), python3 with venv, and PyPI. Set KEEP_WORKDIR=1 to keep the temporary folder.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

log() { echo "[python-consumer] $*"; }
die() { echo "[python-consumer] ERROR: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 <floor|newest|X.Y.Z> <typescript cdk.out>"
REQUESTED=$1
TS_OUT=$(cd "$2" 2>/dev/null && pwd) || die "no such folder: $2"
ls "$TS_OUT"/*.template.json >/dev/null 2>&1 || die "$TS_OUT holds no *.template.json: synthesize the TypeScript app first (npx projen example)"

PYTHON=${PYTHON:-python3}
CDK="$ROOT/node_modules/.bin/cdk"
[ -x "$CDK" ] || die "$CDK not found: run npm ci"

case "$REQUESTED" in
  floor)
    # The floor is the peer dependency's lower bound, e.g. "^2.257.0" or ">=2.257.0".
    CDK_LIB_SPEC="aws-cdk-lib==$(node -p "require('./package.json').peerDependencies['aws-cdk-lib'].replace(/^[\^~>=\s]+/, '')")"
    ;;
  newest) CDK_LIB_SPEC="aws-cdk-lib" ;;
  [0-9]*.[0-9]*.[0-9]*) CDK_LIB_SPEC="aws-cdk-lib==$REQUESTED" ;;
  *) die "first argument: floor, newest or a version X.Y.Z, not '$REQUESTED'" ;;
esac

shopt -s nullglob
wheels=(dist/python/*.whl)
shopt -u nullglob
[ ${#wheels[@]} -eq 1 ] || die "expected one wheel in dist/python, found ${#wheels[@]}: build it with npx projen compile && npx projen package:js && npx projen package:python"
WHEEL="$ROOT/${wheels[0]}"

bash scripts/package-python.sh --check-wheel "$WHEEL"

# Equal templates are expected only from the same aws-cdk-lib. The TypeScript assembly's tree.json
# records the version its constructs came from; npm and PyPI may not serve the same newest release.
TS_CDK_LIB_VERSION=$("$PYTHON" - "$TS_OUT/tree.json" <<'EOF'
import json, sys
def walk(node):
    info = node.get('constructInfo') or {}
    if info.get('fqn', '').startswith('aws-cdk-lib.'):
        yield info.get('version')
    for child in (node.get('children') or {}).values():
        yield from walk(child)
try:
    versions = set(walk(json.load(open(sys.argv[1]))['tree']))
except OSError:
    versions = set()
print(' '.join(sorted(v for v in versions if v)))
EOF
)
[ -n "$TS_CDK_LIB_VERSION" ] || die "$TS_OUT/tree.json names no aws-cdk-lib version: give a complete cdk.out"
same_version() { # <aws-cdk-lib version of this run>
  [ "$TS_CDK_LIB_VERSION" = "$1" ] \
    || die "the TypeScript synth in $TS_OUT used aws-cdk-lib $TS_CDK_LIB_VERSION, this run $1 from PyPI: synthesize the TypeScript app with aws-cdk-lib $1 (npm and PyPI may not serve the same newest release)"
}
[ "$CDK_LIB_SPEC" = aws-cdk-lib ] || same_version "${CDK_LIB_SPEC#aws-cdk-lib==}"

WORK=$(mktemp -d)
if [ "${KEEP_WORKDIR:-}" = 1 ]; then
  log "keeping $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t=$(now)
"$PYTHON" -m venv "$WORK/venv" || die "$PYTHON -m venv failed: install python3-venv"
VENV_S=$(since "$t")
VPY="$WORK/venv/bin/python"

log "installing $CDK_LIB_SPEC, constructs, jsii and $(basename "$WHEEL") from PyPI"
t=$(now)
if ! "$VPY" -m pip install --quiet --disable-pip-version-check "$CDK_LIB_SPEC" constructs jsii "$WHEEL"; then
  # The usual cause: a version npm serves that PyPI does not (yet).
  pypi_newest=$("$VPY" -m pip index versions aws-cdk-lib 2>/dev/null | sed -n 's/^aws-cdk-lib (\(.*\))$/\1/p' || true)
  die "pip install of $CDK_LIB_SPEC failed (the newest aws-cdk-lib on PyPI here: ${pypi_newest:-unknown})"
fi
INSTALL_S=$(since "$t")
CDK_LIB_VERSION=$("$VPY" -c 'import importlib.metadata as m; print(m.version("aws-cdk-lib"))')
if [ "$CDK_LIB_SPEC" != aws-cdk-lib ] && [ "aws-cdk-lib==$CDK_LIB_VERSION" != "$CDK_LIB_SPEC" ]; then
  die "asked for $CDK_LIB_SPEC, pip installed $CDK_LIB_VERSION"
fi
same_version "$CDK_LIB_VERSION"
log "installed aws-cdk-lib $CDK_LIB_VERSION, $("$VPY" -m pip list --disable-pip-version-check 2>/dev/null | awk '$1 == "jsii" || $1 == "constructs" || $1 == "cdk-certificates" { printf "%s %s, ", $1, $2 }' | sed 's/, $//')"

# The environment of every synth: offline, no telemetry, deprecated jsii APIs throw; the venv's
# python first on PATH for the CLI's `--app`.
synth() { # <app command> <output folder> <log file>
  env PATH="$WORK/venv/bin:$PATH" CDK_DISABLE_VERSION_CHECK=1 AWS_EC2_METADATA_DISABLED=true \
    CDK_DISABLE_CLI_TELEMETRY=true JSII_DEPRECATED=fail \
    "$CDK" synth --app "$1" --output "$2" --quiet --no-notices >"$3" 2>&1 \
    || { cat "$3" >&2; die "cdk synth --app '$1' failed (output above)"; }
}

# JSII_DEPRECATED=fail makes deprecated jsii APIs throw; CDK's own deprecation notices and errors
# are annotations in the assembly's metadata: none may be there.
no_deprecation_notices() { # <cloud assembly>
  "$VPY" - "$1" <<'EOF' || die "the assembly $1 records an error or a deprecation warning (above)"
import json, pathlib, sys
problems = []
def visit(node, at):
    if isinstance(node, list):
        for n in node:
            visit(n, at)
    elif isinstance(node, dict):
        kind = node.get('type')
        if kind == 'aws:cdk:error' or (kind == 'aws:cdk:warning' and 'deprecat' in json.dumps(node.get('data')).lower()):
            problems.append(f'{at}: {kind}: {json.dumps(node.get("data"))[:300]}')
        for key, value in node.items():
            visit(value, key if key.startswith('/') else at)
for f in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')):
    if f.name == 'manifest.json' or f.name.endswith('.metadata.json'):
        visit(json.loads(f.read_text()), f.name)
if problems:
    sys.exit('\n'.join(problems))
EOF
}

log "synthesizing examples/python/app.py"
t=$(now)
synth "$VPY examples/python/app.py" "$WORK/python.out" "$WORK/synth.log"
SYNTH_S=$(since "$t")
no_deprecation_notices "$WORK/python.out"

# Compares every template of the two assemblies (nested stage assemblies included).
"$VPY" - "$TS_OUT" "$WORK/python.out" <<'EOF' || die "the Python templates differ from the TypeScript ones"
import json, pathlib, sys

ts_root, py_root = (pathlib.Path(p) for p in sys.argv[1:3])
counts = {}

def normalise(template):
    """What honestly differs between the two synths, and nothing else:

    - Resources.CDKMetadata (AWS::CDK::Metadata) and Conditions.CDKMetadataAvailable: the CLI's
      version reporting. Its Analytics string encodes the construct library versions and the app's
      language (the jsii runtime names Python), and the TypeScript synth (`npx projen example`) runs
      with --no-version-reporting, so it has none. Removed only when it is exactly that resource
      type and that condition.
    """
    resources = template.get('Resources', {})
    metadata = resources.get('CDKMetadata')
    if metadata is not None:
        if metadata.get('Type') != 'AWS::CDK::Metadata':
            sys.exit(f'Resources.CDKMetadata has type {metadata.get("Type")}, not AWS::CDK::Metadata')
        del resources['CDKMetadata']
        counts['CDKMetadata'] = counts.get('CDKMetadata', 0) + 1
    conditions = template.get('Conditions', {})
    if 'CDKMetadataAvailable' in conditions:
        del conditions['CDKMetadataAvailable']
        counts['CDKMetadataAvailable'] = counts.get('CDKMetadataAvailable', 0) + 1
        if not conditions:
            del template['Conditions']
    return template

def first_difference(a, b, path='$'):
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f'{path}.{key}', a.get(key, '<absent>'), b.get(key, '<absent>')
            found = first_difference(a[key], b[key], f'{path}.{key}')
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f'{path}[{i}]')
            if found:
                return found
        if len(a) != len(b):
            return f'{path}.length', len(a), len(b)
        return None
    return None if a == b else (path, a, b)

def templates(root):
    return {str(p.relative_to(root)): p for p in sorted(root.rglob('*.template.json'))}

ts, py = templates(ts_root), templates(py_root)
if set(ts) != set(py):
    sys.exit(f'stacks differ: only TypeScript {sorted(set(ts) - set(py))}, only Python {sorted(set(py) - set(ts))}')
for name in ts:
    a = normalise(json.loads(ts[name].read_text()))
    b = normalise(json.loads(py[name].read_text()))
    found = first_difference(a, b)
    if found:
        path, x, y = found
        show = lambda v: json.dumps(v)[:300]
        sys.exit(f'{name}: first difference at {path}\n  TypeScript: {show(x)}\n  Python:     {show(y)}')
normalised = ', '.join(f'{k} x{v}' for k, v in sorted(counts.items())) or 'nothing'
print(f'[python-consumer] {len(ts)} templates equal to TypeScript\'s (normalised: {normalised})')
EOF

# The README's Python quick start, run as a user would run it.
log "running the README's Python quick start"
mkdir -p "$WORK/quickstart"
"$VPY" - README.md "$WORK/quickstart/app.py" <<'EOF' || die "no Python quick start in README.md"
import re, sys
readme = open(sys.argv[1], encoding='utf-8').read()
section = re.search(r'^## Quick start\n(.*?)(?=^## )', readme, re.S | re.M)
block = section and re.search(r'^```python\n(.*?)^```', section.group(1), re.S | re.M)
if not block:
    sys.exit('README.md: "## Quick start" has no ```python block')
open(sys.argv[2], 'w', encoding='utf-8').write(block.group(1))
EOF
t=$(now)
(cd "$WORK/quickstart" && synth "$VPY app.py" "$WORK/quickstart.out" "$WORK/quickstart.log")
QUICKSTART_S=$(since "$t")
no_deprecation_notices "$WORK/quickstart.out"
"$VPY" - "$WORK/quickstart.out" <<'EOF' || die "the README's Python quick start synthesized, but not what it promises"
import json, pathlib, sys
templates = sorted(pathlib.Path(sys.argv[1]).glob('*.template.json'))
if [t.name for t in templates] != ['Web.template.json']:
    sys.exit(f'expected one stack, Web; got {[t.name for t in templates]}')
resources = json.loads(templates[0].read_text())['Resources']
certificates = [k for k, r in resources.items() if r['Type'] == 'Custom::ServerCertificate']
listeners = [r for r in resources.values() if r['Type'] == 'AWS::ElasticLoadBalancingV2::Listener']
if len(certificates) != 1 or len(listeners) != 1:
    sys.exit(f'expected one Custom::ServerCertificate and one listener, got {len(certificates)} and {len(listeners)}')
wanted = [{'CertificateArn': {'Fn::GetAtt': [certificates[0], 'Arn']}}]
if listeners[0]['Properties'].get('Certificates') != wanted:
    sys.exit(f'the listener does not take the certificate: {listeners[0]["Properties"].get("Certificates")}')
if '-----BEGIN' in templates[0].read_text():
    sys.exit('a PEM is in the template: the quick start reads its material from Secrets Manager')
EOF

log "OK: aws-cdk-lib $CDK_LIB_VERSION from PyPI ($REQUESTED): examples/python/app.py equals the TypeScript synth; README quick start runs; no deprecation (venv ${VENV_S}s, install ${INSTALL_S}s, synth ${SYNTH_S}s, quick start ${QUICKSTART_S}s)"
