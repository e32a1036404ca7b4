# shellcheck shell=bash
# Source it: `source scripts/use-node24.sh`. Puts Node.js 24 first on PATH when the node found
# there is older, and leaves a newer one alone. .ci/run sources it; so do developers on machines
# whose system Node is older.
#
# Node 24 comes from the npm registry's node-<os>-<arch> package (Node's official binary and
# headers, repackaged), since a registry npm already reaches is the one source every machine
# here has. npm_config_nodedir points node-gyp at those headers, so native addons
# (better-sqlite3) compile against the Node that will load them, whatever nodedir npm's global
# config names. The system's npm keeps working: it runs on the first node on PATH.

use_node24 () {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then
    return 0
  fi
  local os arch
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "use-node24: no Node 24 package for $(uname -m); install Node.js 24 by hand" >&2; return 1 ;;
  esac
  local prefix="${AUTHD_NODE_PREFIX:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/authd/node24}"
  local package="node-$os-$arch"
  local home="$prefix/node_modules/$package"
  # Each time, so that a kept copy takes 24.x's security releases; a kept copy serves offline.
  if ! npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@24" >/dev/null \
    && [ ! -x "$home/bin/node" ]; then
    echo "use-node24: could not install $package@24 from the npm registry" >&2
    return 1
  fi
  export PATH="$home/bin:$PATH"
  export npm_config_nodedir="$home"
  hash -r
  echo "use-node24: node $(node --version) from $home" >&2
}

use_node24
