# Shared helpers for the deploy scripts: settings, logging, steps, process and port checks.
# Sourced by deploy/eoffice; every function here is safe to call twice.

EOFFICE_HOME="${EOFFICE_HOME:-/var/lib/eoffice}"
EOFFICE_USER="${EOFFICE_USER:-eoffice}"           # owns and runs the infrastructure and its data
EOFFICE_APP_USER="${EOFFICE_APP_USER:-eoffice-app}"  # runs our services and gateway; owns nothing
EOFFICE_PG_PORT="${EOFFICE_PG_PORT:-5432}"
EOFFICE_RABBITMQ_PORT="${EOFFICE_RABBITMQ_PORT:-5672}"
EOFFICE_RABBITMQ_DIST_PORT="${EOFFICE_RABBITMQ_DIST_PORT:-25672}"
EOFFICE_MINIO_PORTS="${EOFFICE_MINIO_PORTS:-9001 9002 9003 9004}"
EOFFICE_ES_PORT="${EOFFICE_ES_PORT:-9200}"
EOFFICE_ES_HEAP="${EOFFICE_ES_HEAP:-1g}"
EOFFICE_GATEWAY_PORT="${EOFFICE_GATEWAY_PORT:-8080}"

# Pinned versions: the install step notices when what is installed differs.
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
ES_VERSION="8.19.21"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
DEBIAN_PACKAGES=(
  rabbitmq-server postgresql openjdk-17-jre-headless maven supervisor
  tesseract-ocr tesseract-ocr-hin tesseract-ocr-eng softhsm2 poppler-utils fonts-lohit-deva
  fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libnss3-tools openssl openjdk-17-jdk-headless chromium
  gcc libc6-dev libnss3-dev  # the letter tests build a shim for Debian pdfsig 22.12 (tests/support/pdfsig.py)
  python3 python3-venv docker-compose unzip curl iproute2 procps ca-certificates
)

BIN_DIR="$EOFFICE_HOME/bin"
OPT_DIR="$EOFFICE_HOME/opt"
DATA_DIR="$EOFFICE_HOME/data"
LOG_DIR="$EOFFICE_HOME/log"        # root's: our programs' logs (written by supervisord) and install logs
INFRA_LOG_DIR="$LOG_DIR/infra"     # the infrastructure's logs, written by $EOFFICE_USER
RUN_DIR="$EOFFICE_HOME/run"
VENV="$EOFFICE_HOME/venv"
SECRETS="$EOFFICE_HOME/secrets.env"
ES_HOME="$OPT_DIR/elasticsearch-$ES_VERSION"

if [ -t 1 ]; then BOLD=$'\e[1m'; RED=$'\e[31m'; GREEN=$'\e[32m'; DIM=$'\e[2m'; RESET=$'\e[0m'
else BOLD=""; RED=""; GREEN=""; DIM=""; RESET=""; fi

say()  { printf '%s\n' "$*"; }
ok()   { printf '  %s✓%s %s\n' "$GREEN" "$RESET" "$*"; }
info() { printf '  %s·%s %s\n' "$DIM" "$RESET" "$*"; }
die()  { printf '%s✗ %s%s\n' "$RED" "$*" "$RESET" >&2; exit 1; }

# step NAME CMD...: run CMD with its output in a log file; on failure show the log's tail
# and stop, naming the step. Prints how long the step took.
step() {
  local name="$1"; shift
  local log="$LOG_DIR/install/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-' ).log"
  mkdir -p "$LOG_DIR/install"; chmod 750 "$LOG_DIR/install"
  local start=$SECONDS
  printf '%s→%s %s\n' "$BOLD" "$RESET" "$name"
  # A subshell outside any `if`, so that `set -e` holds inside the step's functions too.
  local rc=0
  ( umask 027; : > "$log" )   # a step's log may hold what only operators should read
  set +e; ( set -e; "$@" ) >"$log" 2>&1; rc=$?; set -e
  if [ "$rc" = 0 ]; then
    # A step's last line of output, when short, says what it found ("already running", ...).
    local detail; detail="$(tail -n 1 "$log" | cut -c1-100)"
    ok "$name ($((SECONDS - start))s)${detail:+: $detail}"
  else
    printf '%s✗ %s failed (exit %s). Last lines of %s:%s\n' "$RED" "$name" "$rc" "$log" "$RESET" >&2
    tail -n 25 "$log" | sed 's/^/    /' >&2
    exit "$rc"
  fi
}

# progress MESSAGE: a line that reaches the terminal even while a step's output goes to its log.
progress() { printf '    %s\n' "$*" >&3; }
exec 3>&1

require_root() {
  [ "$(id -u)" = 0 ] || die "run this as root (it installs Debian packages and creates the '$EOFFICE_USER' user): sudo $0 $*"
}

# From /, so that tools run as the service user never trip over an unreadable working directory.
# umask 027: what the infrastructure writes is readable by its own user and group only.
as_user() { (cd / && umask 027 && runuser -u "$EOFFICE_USER" -- "$@"); }

load_secrets() {
  [ -f "$SECRETS" ] || die "no $SECRETS yet: run '$(dirname "$0")/eoffice install' first"
  set -a; . "$SECRETS"; set +a
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
# pidfile_alive FILE [WORD]: the pid in FILE runs, and its command line contains WORD (a pid
# left over from before a reboot may belong to another program by now).
pidfile_alive() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  pid_alive "$pid" || return 1
  [ -z "${2:-}" ] || tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}
# stop_pidfile FILE WORD [SECONDS]: asks the process FILE names to stop (SIGTERM) and returns
# once it has exited, SIGKILL after SECONDS (60 unless given). A stop that returns while the
# program still shuts down lets the next step meet it half-alive: a MinIO node answering for
# a drive it is closing.
stop_pidfile() {
  local file="$1" word="$2" limit="${3:-60}" pid
  if pidfile_alive "$file" "$word"; then
    pid="$(cat "$file")"; kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + limit))
    while pid_alive "$pid"; do
      if [ "$SECONDS" -ge "$deadline" ]; then kill -9 "$pid" 2>/dev/null || true; fi
      sleep 0.2
    done
  fi
  rm -f "$file"
}

# port_owner PORT: prints "pid/name" of the listener on 127.0.0.1:PORT, empty if free.
port_owner() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 |
    while read -r pid; do echo "$pid/$(ps -o comm= -p "$pid" 2>/dev/null)"; done || true
}

# ensure_port_free PORT WHAT VAR: fail with what to do when another program holds PORT.
ensure_port_free() {
  local port="$1" what="$2" var="$3" owner
  owner="$(port_owner "$port")"
  if [ -n "$owner" ] || ss -ltnH "sport = :$port" | grep -q .; then
    die "port $port, needed by $what, is already in use${owner:+ by pid ${owner}}. Stop that program, or choose another port with $var=<port> (for every deploy/eoffice command)."
  fi
}

# wait_for DESCRIPTION SECONDS CMD...: poll CMD once a second until it succeeds.
wait_for() {
  local what="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "$what did not become ready within ${limit}s" >&2; return 1; fi
    sleep 1
  done
}
