# Install steps. Each one checks what is already there first, so a second run is quick.
. "$(dirname "${BASH_SOURCE[0]}")/search_plugin.sh"
. "$(dirname "${BASH_SOURCE[0]}")/verapdf.sh"

install_debian_packages() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" = 0 ]; then echo "all ${#DEBIAN_PACKAGES[@]} packages present"; return 0; fi
  progress "installing ${missing[*]}"
  # No service started by a package's postinst: we run our own instances under $EOFFICE_HOME.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' RETURN
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    progress "apt-get install failed; refreshing the package lists and trying once more"
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
      { echo "could not install ${missing[*]}: check the package names above and that Debian's mirrors are reachable (apt-get update)"; return 1; }
  fi
}

# Who owns what: the infrastructure's data, logs and sockets belong to $EOFFICE_USER and nobody
# else may read them; our programs run as $EOFFICE_APP_USER, which owns nothing here and reaches
# the infrastructure only over loopback with passwords. Fixed again on every run (an older
# install left folders world-readable).
ensure_user_and_dirs() {
  id -u "$EOFFICE_USER" >/dev/null 2>&1 ||
    useradd --system --home-dir "$EOFFICE_HOME" --shell /usr/sbin/nologin "$EOFFICE_USER"
  id -u "$EOFFICE_APP_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$EOFFICE_APP_USER"
  mkdir -p "$BIN_DIR" "$OPT_DIR" "$DATA_DIR" "$LOG_DIR" "$INFRA_LOG_DIR" "$RUN_DIR" "$EOFFICE_HOME/downloads"
  chmod 755 "$EOFFICE_HOME"
  chown "$EOFFICE_USER:$EOFFICE_USER" "$DATA_DIR" "$RUN_DIR" "$INFRA_LOG_DIR"
  chmod 700 "$DATA_DIR"; chmod 750 "$RUN_DIR" "$INFRA_LOG_DIR"
  chown "root:$EOFFICE_USER" "$LOG_DIR"; chmod 750 "$LOG_DIR"   # the infrastructure user passes through to infra/
  # What an older install wrote readable by everyone. Only what needs it, and a file the running
  # MinIO, PostgreSQL or Elasticsearch removes meanwhile is no error (chmod -R failed on one).
  find "$DATA_DIR" -perm /077 -exec chmod go-rwx {} + 2>/dev/null || true
  find "$INFRA_LOG_DIR" -type f -exec chmod o-rwx {} + 2>/dev/null || true
  find "$LOG_DIR" -maxdepth 1 -type f -exec chmod o-rwx {} + 2>/dev/null || true
  echo "users $EOFFICE_USER (infrastructure) and $EOFFICE_APP_USER (services); data 700, logs 750"
}

# Credentials are generated once and kept in one file readable by root and the service user.
ensure_secrets() {
  if [ ! -f "$SECRETS" ]; then
    umask 077
    {
      echo "EOFFICE_DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
      echo "EOFFICE_AMQP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
      echo "EOFFICE_MINIO_ACCESS_KEY=eoffice"
      echo "EOFFICE_MINIO_SECRET_KEY=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
      echo "EOFFICE_TOKEN_SECRET=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    } > "$SECRETS.tmp"
    mv "$SECRETS.tmp" "$SECRETS"
  fi
  chown "root:$EOFFICE_USER" "$SECRETS"; chmod 640 "$SECRETS"
}

# The Python environment is rebuilt only when requirements.lock or the interpreter changes. It
# is built on Debian's own Python 3.11 (/usr/bin/python3.11), which every user may run: our
# programs run as $EOFFICE_APP_USER, and an interpreter under /root (pyenv) is not theirs to use.
install_python_env() {
  local lock="$REPO/requirements.lock" stamp="$VENV/.lock-sha256" want python
  python="$(command -v python3.11 || true)"
  [ "$python" = /usr/bin/python3.11 ] || python=/usr/bin/python3.11
  [ -x "$python" ] || { echo "Debian's Python 3.11 ($python) is missing: apt-get install python3 python3-venv"; return 1; }
  want="$(sha256sum "$lock" | cut -d' ' -f1) $python"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "venv matches requirements.lock"; return 0; fi
  rm -rf "$VENV"
  progress "creating $VENV on $python and installing requirements.lock"
  (umask 022 && "$python" -m venv "$VENV" &&
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$(grep -E '^uv==' "$lock")" &&
    "$VENV/bin/uv" pip sync --python "$VENV/bin/python" "$lock")
  echo "$want" > "$stamp"
}

# A Go toolchain that understands toolchain switching (1.21+); Debian's own is older, so fetch
# the toolchain that MinIO's go.mod names through the module proxy when needed.
go_command() {
  local go
  for go in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go; do
    [ -x "$go" ] || continue
    local minor; minor="$("$go" env GOVERSION 2>/dev/null | sed -E 's/^go1\.([0-9]+).*/\1/')"
    if [ -n "$minor" ] && [ "$minor" -ge 21 ] 2>/dev/null; then echo "$go"; return 0; fi
  done
  local old=/usr/lib/go/bin/go gopath="$EOFFICE_HOME/go"
  [ -x "$old" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends golang-go >&2 || return 1
  local tc="golang.org/toolchain@v0.0.1-go1.24.8.linux-$(dpkg --print-architecture)"
  local dir; dir="$(GOPATH="$gopath" GOFLAGS=-modcacherw "$old" mod download -json "$tc" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -x "$dir/bin/go" ] && echo "$dir/bin/go"
}

install_minio() {
  local stamp="$BIN_DIR/.minio-version"
  if [ -x "$BIN_DIR/minio" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$MINIO_VERSION" ]; then
    echo "minio $MINIO_VERSION present"; return 0
  fi
  local go; go="$(go_command)" || { echo "no Go 1.21+ toolchain found and none could be fetched"; return 1; }
  progress "building $MINIO_MODULE@$MINIO_VERSION with $("$go" version | cut -d' ' -f3) (several minutes on 2 cores)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto "$go" install "$MINIO_MODULE@$MINIO_VERSION")
  mv "$tmp/minio" "$BIN_DIR/minio"; rm -rf "$tmp"
  echo "$MINIO_VERSION" > "$stamp"
  echo "minio $MINIO_VERSION built"
}

install_elasticsearch() {
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then echo "elasticsearch $ES_VERSION present"; install_search_plugin; return 0; fi
  local zip="$EOFFICE_HOME/downloads/elasticsearch-$ES_VERSION.zip"
  if ! unzip -tq "$zip" >/dev/null 2>&1; then
    progress "fetching $ES_ARTIFACT from Maven Central (about 100 MB)"
    rm -f "$zip"
    mvn -B -ntp dependency:copy -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$EOFFICE_HOME/downloads" -Dmdep.useBaseVersion=true
  fi
  # Unpack beside the target and rename, so an interrupted unpack never looks installed.
  local tmp="$OPT_DIR/.es-unpack"
  rm -rf "$tmp"; mkdir -p "$tmp"
  unzip -q "$zip" -d "$tmp"
  rm -rf "$ES_HOME"; mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"; rm -rf "$tmp"
  chown -R "$EOFFICE_USER:" "$ES_HOME"
  echo "elasticsearch $ES_VERSION unpacked in $ES_HOME"
  install_search_plugin
}
