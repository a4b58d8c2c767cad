#!/usr/bin/env bash
# Runs every check CI runs, from the repository root: gofmt, go vet,
# golangci-lint and all tests. Run as root on a machine prepared by
# scripts/setup.sh (some tests need root and system packages):
# sudo scripts/test.sh. The last lines are gotestsum's summary.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

golangci_lint_version=v2.15.0
gotestsum_version=v1.13.0

# sudo resets PATH; Go's tarball lives in /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$PATH:$gobin"

# tool NAME WANT_VERSION MODULE_PATH: prints the path of NAME at WANT_VERSION,
# from PATH or $gobin, installing it into $gobin with go install otherwise.
tool() {
  local name=$1 want=${2#v} module=$3 candidate out
  local pattern="(^|[^0-9.])v?${want//./[.]}([^0-9.]|\$)"
  for candidate in "$(command -v "$name" || true)" "$gobin/$name"; do
    [[ -x "$candidate" ]] || continue
    out="$("$candidate" --version 2>/dev/null || true)"
    if [[ "$out" =~ $pattern ]]; then
      echo "$candidate"
      return
    fi
  done
  echo "test.sh: installing $module@v$want" >&2
  go install "$module@v$want" >&2
  echo "$gobin/$name"
}

echo "== gofmt"
unformatted="$(find . -name '*.go' -not -path './vendor/*' -not -path '*/testdata/*' -not -path './.git/*' -print0 |
  xargs -0 -r gofmt -l)"
if [[ -n "$unformatted" ]]; then
  echo "test.sh: these files need gofmt -w:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== go vet"
go vet -tags fieldsv1string ./...

echo "== golangci-lint"
golangci_lint="$(tool golangci-lint "$golangci_lint_version" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)"
"$golangci_lint" run ./...

echo "== tests"
# In-process informers hold the API server's cached objects themselves
# (internal/server/shared.go): client-go's detector panics if anything
# changes an object it handed out.
export KUBE_CACHE_MUTATION_DETECTOR=true
# Every update checks that its update function left the stored object alone
# (internal/apiserver/registry/checkupdate.go).
export TUG_CHECK_UPDATES=true
# Reusing a part that cached objects share checks that nobody changed it
# in place (internal/apiserver/watchcache/sharing).
export TUG_CHECK_SHARED_PARTS=true
gotestsum="$(tool gotestsum "$gotestsum_version" gotest.tools/gotestsum)"
exec "$gotestsum" --format testname -- -tags fieldsv1string -count=1 -timeout 30m ./...
