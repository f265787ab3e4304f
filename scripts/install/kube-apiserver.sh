#!/usr/bin/env bash
# Builds a pinned kube-apiserver and etcd through the Go module proxy into .cache/kube/<version>/, once;
# test/kubernetes-api/ applies every planned manifest of the Kubernetes stages to them on 127.0.0.1.
# Needs Go >= 1.26 on PATH; nothing else. A re-run with both binaries present is instant.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces k8s.io/api & co. with ./staging/...,
# which the module zip does not carry. So we build it from a throwaway wrapper module that requires
# k8s.io/kubernetes and replaces every staging module with its published v0.<minor>.<patch> twin.
set -euo pipefail
KUBE_VERSION="v1.36.3"
ETCD_VERSION="v3.6.16"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/.cache/kube/$KUBE_VERSION"
# One stamp per binary: a failed kube-apiserver build does not throw away a good etcd.
built() { [ -x "$out/$1" ] && [ "$(cat "$out/$1.version" 2>/dev/null)" = "$2" ]; }

if built kube-apiserver "$KUBE_VERSION" && built etcd "$ETCD_VERSION"; then exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  # Not fatal: only test/kubernetes-api/ needs these, and it skips saying why when they are absent.
  echo "[setup] kube-apiserver: go is not on PATH; cannot build kube-apiserver $KUBE_VERSION / etcd $ETCD_VERSION; test/kubernetes-api/ will be SKIPPED" >&2
  exit 0
fi
echo "[setup] building kube-apiserver $KUBE_VERSION + etcd $ETCD_VERSION with $(go version | cut -d' ' -f3) (low priority; first build takes a while)" >&2
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Low priority, and one package at a time on a developer's machine, where other suites run brokers on the
# same 2 cores meanwhile. In CI the installers run before any suite, so the build may take both cores.
if [ "${CI:-}" = "true" ]; then jobs=2; else jobs=1; fi
build_env=(env GOFLAGS="-p=$jobs -trimpath -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local nice -n 19)

# etcd's server/v3 go.mod has replace directives too (../api, ...), so `go install ...@version` refuses
# it as well; as a dependency of a wrapper module its replaces are ignored and its pinned requires hold.
build_in_wrapper() { # <dir> <package@version> <output> [ldflags]
  (
    cd "$1"
    "${build_env[@]}" go get "$2"
    "${build_env[@]}" go build -ldflags "${4:-"-s -w"}" -o "$3" "${2%@*}"
  )
}
if ! built etcd "$ETCD_VERSION"; then
  mkdir -p "$tmp/etcd"
  printf 'module botplatform.local/etcd-build\n\ngo 1.26.0\n' > "$tmp/etcd/go.mod"
  build_in_wrapper "$tmp/etcd" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$tmp/etcd-bin"
  mv "$tmp/etcd-bin" "$out/etcd"
  echo "$ETCD_VERSION" > "$out/etcd.version"
  "$out/etcd" --version >&2
fi
if built kube-apiserver "$KUBE_VERSION"; then exit 0; fi

minor="${KUBE_VERSION#v1.}"   # 36.3 -> staging modules are published as v0.36.3
wrap="$tmp/wrap"
mkdir -p "$wrap"
gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
{
  echo "module botplatform.local/kube-build"
  echo
  echo "go 1.26.0"
  echo
  echo "godebug default=go1.26"
  echo
  echo "replace ("
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9.-]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 v0.'"$minor"'#p' "$gomod"
  echo ")"
} > "$wrap/go.mod"
major_minor="${KUBE_VERSION#v}"; major="${major_minor%%.*}"; rest="${major_minor#*.}"; kminor="${rest%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$kminor -X $pkg.gitTreeState=clean"
done
build_in_wrapper "$wrap" "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" "$tmp/kube-apiserver" "$ldflags"
mv "$tmp/kube-apiserver" "$out/kube-apiserver"
echo "$KUBE_VERSION" > "$out/kube-apiserver.version"
"$out/kube-apiserver" --version >&2
