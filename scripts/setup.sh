#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for tug and installs the tug binary.
# Run as root from anywhere: sudo scripts/setup.sh. Safe to run again.
#
# Installs (only what is missing) containerd, runc, the CNI plugins, nftables
# and iproute2, which the node agent uses, and etcd-server, which the storage
# tests and benchmark compare against. Then builds /usr/local/bin/tug with
# the version and commit stamped in, and starts `tug server` with its data in
# /var/lib/tug (admin kubeconfig: /var/lib/tug/kubeconfig.yaml).
#
# Needs Go (go.mod's version or newer) on PATH or in /usr/local/go/bin.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if [[ $EUID -ne 0 ]]; then
  echo "setup.sh: run as root: sudo scripts/setup.sh" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

packages=(containerd runc containernetworking-plugins nftables iproute2 etcd-server curl)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
  echo "setup.sh: system packages already installed: ${packages[*]}"
fi

# sudo resets PATH; Go's tarball lives in /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup.sh: Go is not installed: install the Go toolchain named in go.mod into /usr/local/go, then run this again" >&2
  exit 1
fi

# The repository may belong to another user than root: tell git it is safe.
git_() { git -c safe.directory="$repo" -C "$repo" "$@"; }
version_pkg=github.com/tugcluster/tug/internal/version
ldflags=()
if commit="$(git_ rev-parse HEAD 2>/dev/null)"; then
  if [[ -n "$(git_ status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit+="-dirty"
  fi
  ldflags+=("-X ${version_pkg}.GitCommit=${commit}")
fi
if tag="$(git_ describe --tags --exact-match --dirty 2>/dev/null)"; then
  ldflags+=("-X ${version_pkg}.Version=${tag}")
fi

echo "setup.sh: building /usr/local/bin/tug with $(go version)"
go build -trimpath -tags fieldsv1string -ldflags "${ldflags[*]:-}" -o /usr/local/bin/tug ./cmd/tug
tug_bin=/usr/local/bin/tug
"$tug_bin" version

# Start the server: as a systemd service where systemd runs, else as a
# background process with a pid file. The node agent arrives with its
# milestone, so the server runs with --disable-agent.
data_dir=/var/lib/tug
mkdir -p "$data_dir"
if [[ "$(ps -o comm= -p 1 2>/dev/null)" == systemd ]]; then
  cat >/etc/systemd/system/tug.service <<UNIT
[Unit]
Description=tug server (Kubernetes-compatible API server)
After=network-online.target

[Service]
ExecStart=$tug_bin server --data-dir $data_dir --disable-agent
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable tug.service
  systemctl restart tug.service
else
  pidfile="$data_dir/server.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "setup.sh: stopping the running tug server (pid $(cat "$pidfile")) to start the new build"
    kill "$(cat "$pidfile")"
    for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
  fi
  nohup "$tug_bin" server --data-dir "$data_dir" --disable-agent >>/var/log/tug-server.log 2>&1 </dev/null &
  echo $! >"$pidfile"
fi

kubeconfig="$data_dir/kubeconfig.yaml"
for _ in $(seq 100); do
  if [[ -f "$kubeconfig" ]] && curl -fsk https://127.0.0.1:6443/readyz >/dev/null 2>&1; then
    echo "setup.sh: tug server is ready. Try: kubectl --kubeconfig $kubeconfig get namespaces"
    exit 0
  fi
  sleep 0.1
done
echo "setup.sh: tug server did not become ready in 10s; see /var/log/tug-server.log or journalctl -u tug" >&2
exit 1
