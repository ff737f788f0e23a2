#!/usr/bin/env bash
# A TypeScript user's CDK app, built from the packed npm tarball exactly as a user installs it.
#
#   scripts/ts-consumer.sh <floor|newest> <out-dir>
#
# In a fresh folder outside the project: `npm init`, install dist/js/*.tgz with aws-cdk-lib (floor: the
# peer-dependency minimum; newest: the registry's latest) and constructs, copy examples/app.ts with
# its '../src' import turned into 'cdk-certificates', type-check and compile it with tsc, and
# synthesize it with the aws-cdk CLI into <out-dir> (JSII_DEPRECATED=fail: a deprecated API fails).
# Then:
#   - the assembly's Lambda code for every handler kind is byte-identical to the shipped bundle;
#   - no construct left a deprecation warning in the assembly;
#   - floor: every template equals the in-repo synth (`npx projen example`, cdk.out/);
#   - newest: the same stacks as the in-repo synth, with identical certificate resources (Custom::*,
#     AWS::ACMPCA::*); what this aws-cdk-lib renders differently of its own is listed.
#
# Environment:
#   TS_CONSUMER_DIST       folder holding the tarball (default: <project>/dist/js)
#   TS_CONSUMER_REFERENCE  the in-repo cloud assembly (default: <project>/cdk.out)
#   TS_CONSUMER_KEEP=1     keep the consumer folder (its path is printed)
set -euo pipefail

project=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "[ts-consumer] $*"; }
die() { echo "[ts-consumer] ERROR: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: scripts/ts-consumer.sh <floor|newest|X.Y.Z> <out-dir>"
mode=$1
case "$mode" in floor | newest | [0-9]*.[0-9]*.[0-9]*) ;; *) die "first argument must be 'floor', 'newest' or a version X.Y.Z, not '$mode'" ;; esac
dist=${TS_CONSUMER_DIST:-$project/dist/js}
reference=${TS_CONSUMER_REFERENCE:-$project/cdk.out}

# The synth is offline; the install is the only step that needs the registry.
export CDK_DISABLE_VERSION_CHECK=1 AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# --- the tarball ---------------------------------------------------------------------------------
shopt -s nullglob
tarballs=("$dist"/*.tgz)
shopt -u nullglob
[ ${#tarballs[@]} -gt 0 ] || die "no npm tarball in $dist: run npx projen package:js"
[ ${#tarballs[@]} -eq 1 ] || die "more than one tarball in $dist (${tarballs[*]}): remove the stale ones"
tarball=$(cd "$(dirname "${tarballs[0]}")" && pwd)/$(basename "${tarballs[0]}")

# Handler kinds: every lambda/<kind>/index.ts and every `handlerName: '<kind>'` in src/.
mapfile -t kinds < <(
  {
    for entry in "$project"/lambda/*/index.ts; do [ -e "$entry" ] && basename "$(dirname "$entry")"; done
    grep -rhoE "handlerName: *['\"][^'\"]+['\"]" "$project/src" | sed -E "s/.*['\"]([^'\"]+)['\"]$/\1/"
  } | sort -u
)
[ ${#kinds[@]} -gt 0 ] || die "no handler kind found in $project/lambda or $project/src"
listing=$(tar -tzf "$tarball") || die "cannot read $tarball"
missing=()
for kind in "${kinds[@]}"; do
  grep -qxF "package/assets/lambda/$kind/index/index.js" <<<"$listing" || missing+=("assets/lambda/$kind/index/index.js")
done
[ ${#missing[@]} -eq 0 ] \
  || die "$(basename "$tarball") lacks handler bundles: ${missing[*]} (run npx projen bundle, then npx projen package:js)"
grep -qxF 'package/lib/index.js' <<<"$listing" || die "$(basename "$tarball") has no lib/index.js"
# What the consumer's templates are compared with.
[ -d "$reference" ] && [ -f "$reference/manifest.json" ] \
  || die "no in-repo cloud assembly at $reference: run npx projen example"
reference=$(cd "$reference" && pwd)

# --- versions ------------------------------------------------------------------------------------
peer() { node -p "(require('$project/package.json').peerDependencies || {})['$1'] || ''"; }
floor_of() { sed -E 's/^[^0-9]*//' <<<"$1"; }
cdk_lib_range=$(peer aws-cdk-lib)
constructs_range=$(peer constructs)
[ -n "$cdk_lib_range" ] || die "package.json has no peerDependencies.aws-cdk-lib"
if [ "$mode" = floor ]; then
  cdk_lib_spec=aws-cdk-lib@$(floor_of "$cdk_lib_range")
  constructs_spec=constructs@$(floor_of "${constructs_range:-10.0.0}")
elif [ "$mode" = newest ]; then
  cdk_lib_spec=aws-cdk-lib@latest
  constructs_spec=constructs@latest
else
  cdk_lib_spec=aws-cdk-lib@$mode
  constructs_spec=constructs@latest
fi
# The compiler the project is built with (a new major may not read every project's tsconfig), the
# Node.js types of the Node.js that runs the app, and the newest CLI (it reads every older assembly).
typescript_spec=typescript@$(node -p "require('$project/package.json').devDependencies.typescript || 'latest'")
node_types_spec=@types/node@$(node -p 'process.versions.node.split(".")[0]')

# --- the output folder ---------------------------------------------------------------------------
out=$2
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  [ -f "$out/manifest.json" ] || die "$out exists and is not a cloud assembly: give an empty or new folder"
  rm -rf "$out"
fi
mkdir -p "$(dirname "$out")"

# --- the user's app, outside the project ---------------------------------------------------------
app_dir=$(mktemp -d "${TMPDIR:-/tmp}/cdk-certificates-consumer.XXXXXX")
case "$app_dir/" in "$project"/*) die "the consumer folder $app_dir is inside the project" ;; esac
if [ "${TS_CONSUMER_KEEP:-}" = 1 ]; then
  log "keeping the consumer app in $app_dir"
else
  trap 'rm -rf "$app_dir"' EXIT
fi
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

t0=$(now)
cd "$app_dir"
npm init -y >/dev/null
log "npm install $(basename "$tarball") $cdk_lib_spec $constructs_spec"
npm install --no-audit --no-fund --loglevel=error --save-exact "$tarball" "$cdk_lib_spec" "$constructs_spec" \
  || die "npm install of the tarball with $cdk_lib_spec failed"
npm install --no-audit --no-fund --loglevel=error --save-exact --save-dev \
  "$typescript_spec" "$node_types_spec" aws-cdk@latest \
  || die "npm install of typescript, @types/node and aws-cdk failed"
version() { node -p "require('$app_dir/node_modules/$1/package.json').version"; }
cdk_lib_version=$(version aws-cdk-lib)
constructs_version=$(version constructs)
lib_version=$(version cdk-certificates)
t1=$(now)

# examples/app.ts as a user writes it: the library comes from its package, nothing else is relative.
sed -E "s#from '\.\./src'#from 'cdk-certificates'#" "$project/examples/app.ts" >app.ts
grep -q "from 'cdk-certificates'" app.ts || die "examples/app.ts does not import from '../src'"
if grep -nE "from '\.{1,2}/|require\('\.{1,2}/" app.ts; then
  die "examples/app.ts imports a relative path (lines above) that a user's app would not have"
fi
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["es2022"],
    "types": ["node"],
    "strict": true,
    "noImplicitReturns": true,
    "experimentalDecorators": true,
    "skipLibCheck": false,
    "outDir": "build"
  },
  "include": ["app.ts"]
}
EOF
echo '{ "app": "node build/app.js" }' >cdk.json
npx tsc -p . || die "the example app does not compile against cdk-certificates $lib_version with aws-cdk-lib $cdk_lib_version"
t2=$(now)

log "cdk synth with aws-cdk-lib $cdk_lib_version, constructs $constructs_version (JSII_DEPRECATED=fail)"
# The in-repo synth runs with --no-version-reporting too, so neither template has CDKMetadata.
JSII_DEPRECATED=fail npx cdk synth --output "$out" --quiet --no-notices --no-version-reporting \
  || die "cdk synth of the consumer app failed with aws-cdk-lib $cdk_lib_version"
t3=$(now)

# --- checks --------------------------------------------------------------------------------------
summary=$(MODE=$mode OUT=$out REFERENCE=$reference PKG="$app_dir/node_modules/cdk-certificates" \
  KINDS="${kinds[*]}" node <<'EOF'
const fs = require('fs');
const path = require('path');
const { MODE, OUT, REFERENCE, PKG, KINDS } = process.env;
const fail = (msg) => { console.error(`[ts-consumer] ERROR: ${msg}`); process.exit(1); };
const templates = (dir) => Object.fromEntries(fs.readdirSync(dir).filter(f => f.endsWith('.template.json')).sort()
  .map(f => [f.replace(/\.template\.json$/, ''), JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]));
const got = templates(OUT);
const want = templates(REFERENCE);
const stacks = Object.keys(got);
if (stacks.length === 0) fail(`no template in ${OUT}`);
if (JSON.stringify(stacks) !== JSON.stringify(Object.keys(want))) {
  fail(`stacks differ from ${REFERENCE}: consumer [${stacks}], in-repo [${Object.keys(want)}]`);
}

// Warnings left in the assembly: a deprecation fails (JSII_DEPRECATED=fail covers jsii APIs, this
// covers CDK's own deprecation annotations); the rest are counted.
const warnings = [];
for (const f of fs.readdirSync(OUT).filter(f => f === 'manifest.json' || f.endsWith('.metadata.json'))) {
  const json = JSON.parse(fs.readFileSync(path.join(OUT, f), 'utf8'));
  const visit = (node, at) => {
    if (Array.isArray(node)) node.forEach(n => visit(n, at));
    else if (node && typeof node === 'object') {
      if (node.type === 'aws:cdk:warning') warnings.push(`${at}: ${node.data}`);
      for (const [k, v] of Object.entries(node)) visit(v, k.startsWith('/') ? k : at);
    }
  };
  visit(json, f);
}
const deprecations = warnings.filter(w => /deprecat/i.test(w));
if (deprecations.length) fail(`deprecation warnings in the assembly:\n  ${deprecations.join('\n  ')}`);

// The Lambda code the user deploys is the bundle the package ships, byte for byte.
const bodies = JSON.stringify(got);
for (const kind of KINDS.split(' ')) {
  const shipped = fs.readFileSync(path.join(PKG, 'assets', 'lambda', kind, 'index', 'index.js'));
  const assets = fs.readdirSync(OUT).filter(d => d.startsWith('asset.')
    && fs.existsSync(path.join(OUT, d, 'index.js')) && fs.readFileSync(path.join(OUT, d, 'index.js')).equals(shipped));
  if (assets.length === 0) fail(`no asset in ${OUT} holds the shipped ${kind} bundle`);
  if (!assets.some(d => bodies.includes(`${d.slice('asset.'.length)}.zip`))) fail(`no template deploys the ${kind} bundle`);
}

const resources = (t) => Object.values(t.Resources ?? {});
const total = stacks.reduce((n, s) => n + resources(got[s]).length, 0);
let verdict;
if (MODE === 'floor') {
  // Nothing is normalised: same aws-cdk-lib, same bundles (same asset hashes), same construct paths,
  // and both synths run without version reporting (no CDKMetadata).
  const diffs = [];
  const compare = (a, b, at) => {
    if (diffs.length >= 20) return;
    if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) compare(a[k], b[k], `${at}/${k}`);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 160));
      diffs.push(`${at}: consumer ${show(a)} | in-repo ${show(b)}`);
    }
  };
  for (const s of stacks) compare(got[s], want[s], s);
  if (diffs.length) fail(`templates differ from the in-repo synth (${REFERENCE}):\n  ${diffs.join('\n  ')}`);
  verdict = `${stacks.length}/${stacks.length} templates equal to ${path.basename(REFERENCE)}/`;
} else {
  // A newer aws-cdk-lib may render its own resources differently (the Provider framework's functions
  // did, from 2.257 to 2.278: Runtime and Code); the library's certificate resources stay the same.
  const ours = (ty) => ty.startsWith('Custom::') || ty.startsWith('AWS::ACMPCA::');
  const changed = {};
  for (const s of stacks) {
    const types = (t) => resources(t).map(r => r.Type).filter(ours).sort();
    if (JSON.stringify(types(got[s])) !== JSON.stringify(types(want[s]))) {
      fail(`${s}: certificate resources differ from the in-repo synth: consumer [${types(got[s])}], in-repo [${types(want[s])}]`);
    }
    for (const id of new Set([...Object.keys(got[s].Resources), ...Object.keys(want[s].Resources)])) {
      const [a, b] = [got[s].Resources[id], want[s].Resources[id]];
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      const type = (a ?? b).Type;
      if (ours(type)) fail(`${s}/${id} (${type}) differs from the in-repo synth:\n  consumer ${JSON.stringify(a)}\n  in-repo  ${JSON.stringify(b)}`);
      changed[type] = (changed[type] ?? 0) + 1;
    }
  }
  const list = Object.entries(changed).map(([t, n]) => `${t} x${n}`).join(', ') || 'none';
  verdict = `same stacks and certificate resources as ${path.basename(REFERENCE)}/ (rendered differently by this aws-cdk-lib: ${list})`;
}
console.log(`${stacks.length} stacks, ${total} resources, ${KINDS.split(' ').length} handler bundles deployed as shipped, `
  + `${warnings.length} warning(s), ${verdict}`);
EOF
) || exit 1

log "install $(secs "$t0" "$t1"), tsc $(secs "$t1" "$t2"), synth $(secs "$t2" "$t3"), total $(secs "$t0" "$(now)")"
echo "ts-consumer $mode: cdk-certificates $lib_version with aws-cdk-lib $cdk_lib_version, constructs $constructs_version: $summary -> $out"
