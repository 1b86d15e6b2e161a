# Start, stop and check the infrastructure: PostgreSQL, RabbitMQ, four MinIO nodes, Elasticsearch.
# Everything runs as $EOFFICE_USER with data under $DATA_DIR and logs under $LOG_DIR.

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
PG_DATA="$DATA_DIR/postgres"
PG_SOCKET_DIR="$RUN_DIR/postgres"   # mode 700: only $EOFFICE_USER (and root) reach the socket
RABBIT_HOME="$DATA_DIR/rabbitmq"
RABBIT_NODE="eoffice@localhost"

rabbit_env() {
  env HOME="$RABBIT_HOME" RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$EOFFICE_RABBITMQ_PORT" RABBITMQ_DIST_PORT="$EOFFICE_RABBITMQ_DIST_PORT" \
    RABBITMQ_MNESIA_BASE="$RABBIT_HOME/mnesia" RABBITMQ_LOG_BASE="$INFRA_LOG_DIR/rabbitmq" \
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CONFIG_FILE="$RABBIT_HOME/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_HOME/enabled_plugins" \
    RABBITMQ_PID_FILE="$RUN_DIR/rabbitmq.pid" "$@"
}
rabbitmqctl_() { as_user "$(command -v env)" bash -c "$(declare -f rabbit_env); RABBIT_HOME='$RABBIT_HOME' RABBIT_NODE='$RABBIT_NODE' EOFFICE_RABBITMQ_PORT='$EOFFICE_RABBITMQ_PORT' EOFFICE_RABBITMQ_DIST_PORT='$EOFFICE_RABBITMQ_DIST_PORT' INFRA_LOG_DIR='$INFRA_LOG_DIR' RUN_DIR='$RUN_DIR'; rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl \"\$@\"" _ "$@"; }

PSQL_ADMIN=(as_user "$PG_BIN/psql" -h "$PG_SOCKET_DIR" -p "$EOFFICE_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
pg_ready()     { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$EOFFICE_PG_PORT"; }
rabbit_ready() { rabbitmqctl_ -q await_startup --timeout 2 && rabbitmqctl_ -q ping; }
minio_ready()  { curl -fsS -o /dev/null "http://127.0.0.1:$1/minio/health/live"; }
minio_cluster_ready() { curl -fsS -o /dev/null "http://127.0.0.1:${EOFFICE_MINIO_PORTS%% *}/minio/health/cluster"; }
es_ready()     { curl -fsS -o /dev/null "http://127.0.0.1:$EOFFICE_ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s"; }

start_postgres() {
  if pg_ready; then echo "PostgreSQL already running on port $EOFFICE_PG_PORT"; return 0; fi
  if [ -d "$PG_DATA" ] && [ ! -f "$PG_DATA/PG_VERSION" ]; then
    progress "removing a half-initialised $PG_DATA (no PG_VERSION) left by an interrupted install"
    rm -rf "$PG_DATA"
  fi
  if [ ! -d "$PG_DATA" ]; then
    progress "initialising a PostgreSQL cluster in $PG_DATA"
    as_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8
  fi
  write_pg_access
  rm -f "$PG_DATA/postmaster.pid.stale"
  ensure_port_free "$EOFFICE_PG_PORT" PostgreSQL EOFFICE_PG_PORT
  install -d -m 700 -o "$EOFFICE_USER" -g "$EOFFICE_USER" "$PG_SOCKET_DIR"
  # 3>&-: the server keeps no copy of the terminal's output (`progress`), or `up | tee` never ends.
  as_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$INFRA_LOG_DIR/postgres.log" -w -t 60 \
    -o "-p $EOFFICE_PG_PORT -k $PG_SOCKET_DIR -c unix_socket_permissions=0700 -c listen_addresses=127.0.0.1 -c max_connections=300" start 3>&-
  local psql=("${PSQL_ADMIN[@]}")
  "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='eoffice'" | grep -q 1 ||
    "${psql[@]}" -c "CREATE ROLE eoffice LOGIN CREATEDB"
  apply_db_password
  "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='eoffice'" | grep -q 1 ||
    "${psql[@]}" -c "CREATE DATABASE eoffice OWNER eoffice"
}
# The passwords in $SECRETS, given to the running servers (at start, and by `restart` after an
# operator changed them; MinIO takes its root credentials only when its nodes start).
apply_db_password() { "${PSQL_ADMIN[@]}" -c "ALTER ROLE eoffice PASSWORD '$EOFFICE_DB_PASSWORD'" >/dev/null; }
apply_amqp_password() { rabbitmqctl_ -q change_password eoffice "$EOFFICE_AMQP_PASSWORD" >/dev/null; }
apply_passwords() { apply_db_password; apply_amqp_password; echo "database and broker passwords from $SECRETS applied"; }
# Who may connect, and how (rewritten at every start, so an older, laxer file is replaced):
# the database superuser only from the infrastructure's own OS user over the socket (peer,
# mapped); everyone else only over loopback TCP with a password. Nobody is trusted.
write_pg_access() {
  cat > "$PG_DATA/pg_hba.conf" <<HBA
# Managed by deploy/lib/infra.sh (write_pg_access); changes here are overwritten.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=admins
local   all       all                      reject
host    all       postgres  127.0.0.1/32   reject
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        reject
HBA
  cat > "$PG_DATA/pg_ident.conf" <<IDENT
# Managed by deploy/lib/infra.sh: the OS users that may act as the database superuser.
admins  $EOFFICE_USER  postgres
IDENT
  chown "$EOFFICE_USER:$EOFFICE_USER" "$PG_DATA/pg_hba.conf" "$PG_DATA/pg_ident.conf"
  chmod 600 "$PG_DATA/pg_hba.conf" "$PG_DATA/pg_ident.conf"
  # Already running with the old rules: make it read the new ones.
  if [ -f "$PG_DATA/postmaster.pid" ]; then as_user "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null 2>&1 || true; fi
}

stop_postgres() { [ -f "$PG_DATA/postmaster.pid" ] && as_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop || true; }

start_rabbitmq() {
  if rabbit_ready; then echo "RabbitMQ already running on port $EOFFICE_RABBITMQ_PORT"; return 0; fi
  ensure_port_free "$EOFFICE_RABBITMQ_PORT" RabbitMQ EOFFICE_RABBITMQ_PORT
  ensure_port_free "$EOFFICE_RABBITMQ_DIST_PORT" "RabbitMQ clustering" EOFFICE_RABBITMQ_DIST_PORT
  mkdir -p "$RABBIT_HOME" "$INFRA_LOG_DIR/rabbitmq"
  # An epmd left from an earlier start may listen on every interface: ours listens on loopback.
  if ss -ltnH "sport = :4369" | grep -vq '127.0.0.1:4369'; then pkill -x epmd || true; sleep 0.5; fi
  # Management plugin: the operator's window on queues, including the dead-letter queue.
  echo "[rabbitmq_management]." > "$RABBIT_HOME/enabled_plugins"
  cat > "$RABBIT_HOME/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$EOFFICE_RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
loopback_users = none
log.file.level = info
CONF
  chown -R "$EOFFICE_USER:" "$RABBIT_HOME" "$INFRA_LOG_DIR/rabbitmq"
  as_user bash -c "$(declare -f rabbit_env); RABBIT_HOME='$RABBIT_HOME' RABBIT_NODE='$RABBIT_NODE' EOFFICE_RABBITMQ_PORT='$EOFFICE_RABBITMQ_PORT' EOFFICE_RABBITMQ_DIST_PORT='$EOFFICE_RABBITMQ_DIST_PORT' INFRA_LOG_DIR='$INFRA_LOG_DIR' RUN_DIR='$RUN_DIR'; rabbit_env nohup /usr/lib/rabbitmq/bin/rabbitmq-server > '$INFRA_LOG_DIR/rabbitmq/console.log' 2>&1 </dev/null &" 3>&-
  wait_for RabbitMQ 90 rabbit_ready || return 1
  # Right after a restart the node may answer pings before it takes every command: retried.
  wait_for "RabbitMQ users and vhosts" 60 rabbit_setup || rabbit_setup || return 1
  echo "RabbitMQ up on port $EOFFICE_RABBITMQ_PORT, vhosts eoffice and eoffice_test"
}
# The broker user, its vhosts and permissions (the system's and the tests').
rabbit_setup() {
  { rabbitmqctl_ -q list_vhosts | grep -qx eoffice || rabbitmqctl_ -q add_vhost eoffice; } || return 1
  { rabbitmqctl_ -q list_users | grep -q '^eoffice' || rabbitmqctl_ -q add_user eoffice "$EOFFICE_AMQP_PASSWORD"; } || return 1
  { apply_amqp_password; } || return 1
  { rabbitmqctl_ -q set_user_tags eoffice administrator; } || return 1
  { rabbitmqctl_ -q set_permissions -p eoffice eoffice '.*' '.*' '.*'; } || return 1
  # Tests use their own vhost so they never touch the running system's queues.
  { rabbitmqctl_ -q list_vhosts | grep -qx eoffice_test || rabbitmqctl_ -q add_vhost eoffice_test; } || return 1
  { rabbitmqctl_ -q set_permissions -p eoffice_test eoffice '.*' '.*' '.*'; } || return 1
  rabbitmqctl_ -q delete_user guest >/dev/null 2>&1 || true
}
# Given the node's pid file, `rabbitmqctl stop` returns once the Erlang VM has exited, not
# when it was asked to (a start right after would find the ports still taken).
stop_rabbitmq() { if rabbit_ready; then rabbitmqctl_ -q stop "$RUN_DIR/rabbitmq.pid" >/dev/null; fi; }

minio_endpoints() {
  local p out=()
  for p in $EOFFICE_MINIO_PORTS; do out+=("http://127.0.0.1:$p$DATA_DIR/minio/$p"); done
  echo "${out[@]}"
}
minio_nodes_running() { local p n=0; for p in $EOFFICE_MINIO_PORTS; do pidfile_alive "$RUN_DIR/minio-$p.pid" minio && n=$((n + 1)); done; echo "$n"; }
start_minio_node() {
  local port="$1"
  if pidfile_alive "$RUN_DIR/minio-$port.pid" minio; then return 0; fi
  ensure_port_free "$port" "MinIO node" EOFFICE_MINIO_PORTS
  mkdir -p "$DATA_DIR/minio/$port"; chown "$EOFFICE_USER:" "$DATA_DIR/minio" "$DATA_DIR/minio/$port"
  # Every node is given all four endpoints written out in full; a node finds its own drive
  # by matching its --address. Where MinIO believes it runs in a container (a /.dockerenv file)
  # it refuses loopback endpoints unless told which one is its own: _MINIO_SERVER_LOCAL.
  # umask 077: the drives' files are the infrastructure user's alone. The log is appended to, so
  # what a node said before it was restarted is still there to read.
  # MINIO_SCANNER_SPEED=slowest: at its default speed the background scanner of the four nodes
  # took a tenth of a core on an idle box (a fifth of the box's idle load). Objects a write could
  # not put on an absent node are healed from MinIO's queue of recent failures as soon as the
  # node is back; the scanner's slow pass is the backstop for anything else.
  as_user env MINIO_ROOT_USER="$EOFFICE_MINIO_ACCESS_KEY" MINIO_ROOT_PASSWORD="$EOFFICE_MINIO_SECRET_KEY" \
    MINIO_CI_CD=1 MINIO_BROWSER=off MINIO_UPDATE=off MINIO_SCANNER_SPEED=slowest _MINIO_SERVER_LOCAL="127.0.0.1:$port" \
    bash -c "umask 077; nohup '$BIN_DIR/minio' server --quiet --address 127.0.0.1:$port $(minio_endpoints) \
      >> '$INFRA_LOG_DIR/minio-$port.log' 2>&1 </dev/null & echo \$! > '$RUN_DIR/minio-$port.pid'" 3>&-
}
start_minio() {
  if minio_cluster_ready 2>/dev/null && [ "$(minio_nodes_running)" = "$(echo $EOFFICE_MINIO_PORTS | wc -w)" ]; then
    echo "MinIO cluster already running on ports $EOFFICE_MINIO_PORTS"; return 0
  fi
  local p; for p in $EOFFICE_MINIO_PORTS; do start_minio_node "$p"; done
  wait_for "MinIO cluster" 120 minio_cluster_ready
  echo "MinIO cluster up, $(minio_nodes_running) nodes, write quorum reached"
}
stop_minio_node() { stop_pidfile "$RUN_DIR/minio-$1.pid" minio; }
stop_minio() { local p; for p in $EOFFICE_MINIO_PORTS; do stop_minio_node "$p"; done; }

start_elasticsearch() {
  if pidfile_alive "$RUN_DIR/elasticsearch.pid" elasticsearch && es_ready; then echo "Elasticsearch already running on port $EOFFICE_ES_PORT"; return 0; fi
  if ! pidfile_alive "$RUN_DIR/elasticsearch.pid" elasticsearch; then
    install_search_plugin   # a changed plugin source is built before Elasticsearch loads it
    ensure_port_free "$EOFFICE_ES_PORT" Elasticsearch EOFFICE_ES_PORT
    mkdir -p "$DATA_DIR/elasticsearch" "$INFRA_LOG_DIR/elasticsearch"
    chown "$EOFFICE_USER:" "$DATA_DIR/elasticsearch" "$INFRA_LOG_DIR/elasticsearch"
    as_user env ES_JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" ES_JAVA_OPTS="-Xms$EOFFICE_ES_HEAP -Xmx$EOFFICE_ES_HEAP" ES_PATH_CONF="$ES_HOME/config" \
      "$ES_HOME/bin/elasticsearch" -d -p "$RUN_DIR/elasticsearch.pid" \
      -Ediscovery.type=single-node -Expack.security.enabled=false -Enetwork.host=127.0.0.1 -Ehttp.port="$EOFFICE_ES_PORT" \
      -Epath.data="$DATA_DIR/elasticsearch" -Epath.logs="$INFRA_LOG_DIR/elasticsearch" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false 3>&-
  fi
  wait_for Elasticsearch 180 es_ready
  echo "Elasticsearch up on port $EOFFICE_ES_PORT (heap $EOFFICE_ES_HEAP)"
}
stop_elasticsearch() { stop_pidfile "$RUN_DIR/elasticsearch.pid" elasticsearch 120; }

# --- the keeper: a part whose process is gone is started again -----------------------------
# `deploy/eoffice keep`, a program of the system's own supervisord (deploy/lib/services.sh), so
# that, like our programs, a part of the infrastructure that dies comes back without a person: a
# MinIO node, Elasticsearch, RabbitMQ or PostgreSQL killed, or crashed, is started again after
# KEEP_GRACE seconds (readiness and `status` show it down meanwhile). A part stopped on purpose
# (`deploy/eoffice stop`, `part stop NAME`) is left as it is: those leave a mark, $RUN_DIR/NAME.held,
# which `infra` (`up`) or `part start NAME` remove (`starting`: held while they start it).
KEEP_INTERVAL="${EOFFICE_KEEP_INTERVAL:-2}"   # seconds between two looks
KEEP_GRACE="${EOFFICE_KEEP_GRACE:-10}"        # seconds a part stays gone before it is started again
hold()   { mkdir -p "$RUN_DIR"; touch "$RUN_DIR/$1.held"; }
unhold() { rm -f "$RUN_DIR/$1.held"; }
held()   { [ -f "$RUN_DIR/$1.held" ]; }
# starting PART CMD...: CMD starts PART, which the keeper leaves alone meanwhile; however CMD ends
# (a failure ends the script), PART is not held afterwards: a part that failed to start is the
# keeper's to try again, not left stopped.
starting() {
  local part="$1"; shift
  hold "$part"; trap "unhold '$part'" EXIT
  "$@"
  unhold "$part"; trap - EXIT
}
infra_parts() { echo postgres rabbitmq elasticsearch; local p; for p in $EOFFICE_MINIO_PORTS; do echo "minio-$p"; done; }
# Whether the part's process runs (not whether it answers: one starting, or busy, is left alone).
part_alive() {
  case "$1" in
    postgres) [ -f "$PG_DATA/postmaster.pid" ] && pid_alive "$(head -1 "$PG_DATA/postmaster.pid")" ;;
    rabbitmq) pidfile_alive "$RUN_DIR/rabbitmq.pid" beam ;;
    elasticsearch) pidfile_alive "$RUN_DIR/elasticsearch.pid" elasticsearch ;;
    minio-*) pidfile_alive "$RUN_DIR/$1.pid" minio ;;
  esac
}
start_part() {
  case "$1" in
    postgres) start_postgres ;;
    rabbitmq) start_rabbitmq ;;
    elasticsearch) start_elasticsearch ;;
    minio-*) start_minio_node "${1#minio-}" && wait_for "MinIO node" 60 minio_ready "${1#minio-}" ;;
  esac
}
stop_part() {
  case "$1" in
    postgres) stop_postgres ;;
    rabbitmq) stop_rabbitmq ;;
    elasticsearch) stop_elasticsearch ;;
    minio-*) stop_minio_node "${1#minio-}" ;;
  esac
}
keep_infra() {
  set +e   # the keeper never ends on a failure: it says so and tries again
  # Its own log, not through supervisord: a supervisord killed leaves the keeper a broken pipe
  # (a write to it would end the keeper by SIGPIPE) just when it is the one left to act.
  trap '' PIPE
  exec >>"$PROGRAM_LOG_DIR/$KEEPER.log" 2>&1
  local -A gone=()
  local part
  echo "$(date -Is) watching $(infra_parts | paste -sd' ' -) and supervisord: a part whose process is gone, not stopped on purpose, is started again after ${KEEP_GRACE}s"
  while true; do
    for part in $(infra_parts); do
      if held "$part" || part_alive "$part"; then unset "gone[$part]"; continue; fi
      if [ -z "${gone[$part]:-}" ]; then
        gone[$part]=$SECONDS
        echo "$(date -Is) $part: its process is gone, and it was not stopped on purpose"
      elif [ $((SECONDS - gone[$part])) -ge "$KEEP_GRACE" ]; then
        echo "$(date -Is) $part: starting it again"
        # In a session of its own: the part's processes are not the keeper's (supervisord stops
        # the keeper's process group with it). `part start` holds the part while it starts it.
        setsid -w "$REPO/deploy/eoffice" part start "$part" 3>&1
        local started=$?
        unhold "$part"
        if [ "$started" = 0 ] && part_alive "$part"; then
          echo "$(date -Is) $part: running again"; unset "gone[$part]"
        else
          echo "$(date -Is) $part: did not start; trying again in ${KEEP_GRACE}s"; gone[$part]=$SECONDS
        fi
      fi
    done
    keep_supervisord
    sleep "$KEEP_INTERVAL"
  done
}

# supervisord itself, which runs the keeper: if it dies (kill -9, a crash), its programs and the
# keeper live on, orphaned, with nobody to start them again when they die. After KEEP_GRACE the
# keeper stops the programs that supervisord left (by the supervisord their environment names),
# starts supervisord again, which starts every program and a new keeper, and ends.
SUPERVISORD_GONE=""
KEEPER_PARENT=""   # the supervisord that started this keeper
keep_supervisord() {
  if pidfile_alive "$SUPERVISOR_DIR/supervisord.pid" supervisord; then
    SUPERVISORD_GONE=""
    if [ -z "$KEEPER_PARENT" ] && tr '\0' ' ' < "/proc/$PPID/cmdline" 2>/dev/null | grep -q supervisord; then
      KEEPER_PARENT=$PPID
    fi
    if [ -n "$KEEPER_PARENT" ] && [ "$(cat "$SUPERVISOR_DIR/supervisord.pid")" != "$KEEPER_PARENT" ]; then
      echo "$(date -Is) supervisord: another one runs now (an operator's up), with its own keeper; this one ends"
      exit 0
    fi
    return 0
  fi
  if [ -z "$SUPERVISORD_GONE" ]; then
    SUPERVISORD_GONE=$SECONDS
    echo "$(date -Is) supervisord: its process is gone, and it was not stopped on purpose"
    return 0
  fi
  [ $((SECONDS - SUPERVISORD_GONE)) -ge "$KEEP_GRACE" ] || return 0
  local left; left="$(programs_left)"
  if pidfile_alive "$SUPERVISOR_DIR/supervisord.pid" supervisord; then return 0; fi   # an `up` meanwhile
  echo "$(date -Is) supervisord: stopping the programs it left running (pids $(echo $left)), then starting it again"
  stop_pids $left
  start_supervisord "$SUPERVISOR_CONF"
  # Running, whoever started it (an operator's `up` at the same moment is as good): it has its
  # own keeper. The daemon writes its pid file after it forks, a moment after the command has
  # returned (seconds on a loaded box): waited for, not taken for a failure.
  local i; for ((i = 0; i < 60; i++)); do
    pidfile_alive "$SUPERVISOR_DIR/supervisord.pid" supervisord && break
    sleep 0.5
  done
  if pidfile_alive "$SUPERVISOR_DIR/supervisord.pid" supervisord; then
    echo "$(date -Is) supervisord: running again, with every program and a new keeper; this one ends"
    exit 0
  fi
  echo "$(date -Is) supervisord: did not start; trying again in ${KEEP_GRACE}s"; SUPERVISORD_GONE=$SECONDS
}
# The processes of programs of this system's supervisord, but the keeper's (and the parts it
# started): supervisord names itself and the program in each one's environment.
programs_left() {
  local proc env
  for proc in /proc/[0-9]*; do
    [ "${proc#/proc/}" != "$$" ] || continue
    env="$({ tr '\0' '\n' < "$proc/environ"; } 2>/dev/null)" || continue
    grep -qxF "SUPERVISOR_SERVER_URL=unix://$SUPERVISOR_DIR/supervisor.sock" <<<"$env" || continue
    grep -qx "SUPERVISOR_PROCESS_NAME=$KEEPER" <<<"$env" && continue
    echo "${proc#/proc/}"
  done
}
# stop_pids PID...: TERM, up to 20 s to finish what they are doing, then KILL.
stop_pids() {
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  local i pid alive; for ((i = 0; i < 40; i++)); do
    alive=0; for pid in "$@"; do if pid_alive "$pid"; then alive=1; fi; done
    [ "$alive" = 1 ] || return 0
    sleep 0.5
  done
  kill -KILL "$@" 2>/dev/null; sleep 0.5
}
