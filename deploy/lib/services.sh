# Start, stop and check the e-Office services (nameko) and the gateway (gunicorn), each a
# program of one supervisord (Debian's `supervisor`) that restarts it when it dies.

# The one list of our long-running processes (deploy/programs): SERVICES are the nameko ones.
PROGRAMS=($(grep -v '^#' "$REPO/deploy/programs" | awk 'NF {print $1}'))
SERVICES=($(grep -v '^#' "$REPO/deploy/programs" | awk 'NF && $3 != "-" {print $1}'))
# Loopback stand-ins for outside systems (deploy/standins), supervised beside the programs.
STANDINS=($(awk '!/^#/ && NF {print $1}' "$REPO/deploy/standins"))
[ "${EOFFICE_STANDINS:-1}" = 1 ] || STANDINS=()
WITH_STANDINS=1                             # the fault suite's instance uses the system's own
# The keeper (`deploy/eoffice keep`, deploy/lib/infra.sh): on the system's own supervisord only,
# as root (it starts the infrastructure as its user); the instances of the fault suite and the
# whole-state benchmark share the infrastructure, and with it the system's keeper.
KEEPER=keeper
WITH_KEEPER=1
SUPERVISOR_DIR="$EOFFICE_HOME/supervisor"   # root only: its config holds the credentials
SUPERVISOR_CONF="$SUPERVISOR_DIR/supervisord.conf"
PROGRAM_ENV=export_app_env                  # the environment the programs get
PROGRAM_SETTINGS="EOFFICE_DOCUMENTS_BUCKET EOFFICE_RECORDS_BUCKET EOFFICE_INDEX_PREFIX EOFFICE_RETRY_DELAYS
  EOFFICE_OUTBOX_POLL_INTERVAL EOFFICE_RATE_SIGN_IN_CLIENT EOFFICE_RATE_SIGN_IN_ACCOUNT EOFFICE_WEBHOOK_ALLOW_LOOPBACK
  EOFFICE_WEBHOOK_RETRY_BASE EOFFICE_WEBHOOK_RETRY_CAP EOFFICE_WEBHOOK_FAILING_AFTER"  # set by test environments
PROGRAM_LOG_DIR="$LOG_DIR"
PROGRAM_GATEWAY_PORT="$EOFFICE_GATEWAY_PORT"

program_field() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' "$REPO/deploy/programs"; }
standin_dir() { echo "$EOFFICE_HOME/standins/$1"; }   # $DATA_DIR is the infrastructure's only
standin_args() { awk -v n="$1" '$1 == n {$1 = ""; print substr($0, 2)}' "$REPO/deploy/standins" | sed "s|@DIR@|$(standin_dir "$1")|g"; }
is_standin() { [[ " ${STANDINS[*]} " == *" $1 "* ]]; }
# What one supervisord runs: the programs, and on the system's own the stand-ins.
supervised() { echo "${PROGRAMS[@]}"; [ "$WITH_STANDINS" = 0 ] || echo "${STANDINS[@]}"; [ "$WITH_KEEPER" = 0 ] || echo "$KEEPER"; }
is_ours() { [[ " ${PROGRAMS[*]} " == *" $1 "* ]]; }   # a program of deploy/programs (not a stand-in, not the keeper)
service_target() { program_field "$1" 2; }
service_workers() { local w; w="$(program_field "$1" 3)"; [ "$w" = - ] && echo 1 || echo "$w"; }
# How many processes of a program run at once: deploy/programs, or EOFFICE_INSTANCES for every
# program of ours (stand-ins stay one). One is a supervisord program of the name, as ever; several
# are a group of the name (NAME:NAME_0, NAME:NAME_1 ...), each with its own log, a gateway's each
# on its own port (PROGRAM_GATEWAY_PORT + 0, 1 ...). docs/scaling.md says why each is safe twice.
[[ "${EOFFICE_INSTANCES:-1}" =~ ^[1-9][0-9]?$ ]] || die "EOFFICE_INSTANCES must be a number from 1 to 99 (got '$EOFFICE_INSTANCES')"
program_instances() { is_ours "$1" && echo "${EOFFICE_INSTANCES:-$(program_field "$1" 4)}" || echo 1; }
gateway_ports() { local i; for ((i = 0; i < $(program_instances gateway); i++)); do echo $((PROGRAM_GATEWAY_PORT + i)); done; }

# The environment of every service process; secrets come from $SECRETS, never the command line.
export_app_env() {
  export PYTHONPATH="$REPO" PATH="$VENV/bin:$PATH" \
    EOFFICE_AMQP_URI="amqp://eoffice:$EOFFICE_AMQP_PASSWORD@127.0.0.1:$EOFFICE_RABBITMQ_PORT/eoffice" \
    EOFFICE_DATABASE_URL="postgresql+psycopg2://eoffice:$EOFFICE_DB_PASSWORD@127.0.0.1:$EOFFICE_PG_PORT/eoffice" \
    EOFFICE_MINIO_ENDPOINTS="$(for p in $EOFFICE_MINIO_PORTS; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')" \
    EOFFICE_MINIO_ACCESS_KEY EOFFICE_MINIO_SECRET_KEY EOFFICE_TOKEN_SECRET \
    EOFFICE_ELASTICSEARCH_URL="http://127.0.0.1:$EOFFICE_ES_PORT" \
    EOFFICE_GATEWAY_BIND="127.0.0.1:$EOFFICE_GATEWAY_PORT" \
    EOFFICE_PUBLIC_URL="${EOFFICE_PUBLIC_URL:-http://127.0.0.1:$EOFFICE_GATEWAY_PORT}" \
    EOFFICE_RABBITMQ_MANAGEMENT_URL="http://127.0.0.1:15672"
}
app_env() { ( export_app_env; exec "$@" ); }

# Tests run against the same infrastructure but never touch the running system's data: their
# own database, RabbitMQ vhost, buckets and index prefix, and short retry delays.
# EOFFICE_TEST_ENV names a second, separate test environment (eoffice_test_NAME, NAME-documents
# ...), so that two test runs on one machine never share a database or a queue.
TEST_ENV="${EOFFICE_TEST_ENV:-test}"
[[ "$TEST_ENV" =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "EOFFICE_TEST_ENV must be lower-case letters and digits (got '$TEST_ENV')"
TEST_DB="eoffice_test"; [ "$TEST_ENV" = test ] || TEST_DB="eoffice_test_$TEST_ENV"
export_test_env() {
  export_app_env
  export EOFFICE_AMQP_URI="${EOFFICE_AMQP_URI%/eoffice}/$TEST_DB" \
    EOFFICE_DATABASE_URL="${EOFFICE_DATABASE_URL%/eoffice}/$TEST_DB" \
    EOFFICE_DOCUMENTS_BUCKET="$TEST_ENV-documents" EOFFICE_RECORDS_BUCKET="$TEST_ENV-records" \
    EOFFICE_INDEX_PREFIX="$TEST_ENV" EOFFICE_RETRY_DELAYS=0.5,1 EOFFICE_OUTBOX_POLL_INTERVAL=0.5 \
    EOFFICE_HOME EOFFICE_REPO="$REPO"
}

# A fresh test database (and its vhost) each run, so tests start from nothing.
reset_test_database() {
  "${PSQL_ADMIN[@]}" -c "DROP DATABASE IF EXISTS $TEST_DB WITH (FORCE)"
  "${PSQL_ADMIN[@]}" -c "CREATE DATABASE $TEST_DB OWNER eoffice"
  # The vhost afresh too: durable queues of an earlier run would hand their messages to this one.
  if rabbitmqctl_ -q list_vhosts | grep -qx "$TEST_DB"; then rabbitmqctl_ -q delete_vhost "$TEST_DB"; fi
  rabbitmqctl_ -q add_vhost "$TEST_DB"
  rabbitmqctl_ -q set_permissions -p "$TEST_DB" eoffice '.*' '.*' '.*'
  reset_test_indices
}

# The test environment's search indices (prefix = its name: "$TEST_ENV-*", which no other
# environment's names match, as names have no "-"), deleted by name (Elasticsearch refuses
# wildcard deletes). Never the running system's ("eoffice") or the benchmark's; Elasticsearch
# away is only a warning (the search tests drop their indices themselves as well).
reset_test_indices() {
  case "$TEST_ENV" in eoffice|bench) die "EOFFICE_TEST_ENV=$TEST_ENV would delete indices not the tests' own" ;; esac
  local es="http://127.0.0.1:$EOFFICE_ES_PORT" names
  if ! names="$(curl -fsS "$es/_cat/indices/$TEST_ENV-*?h=index&expand_wildcards=all" 2>/dev/null)"; then
    echo "warning: Elasticsearch not answering; $TEST_ENV-* search indices not deleted" >&2; return 0
  fi
  names="$(printf '%s\n' $names | { grep -E "^$TEST_ENV-" || true; } | paste -sd, -)"
  [ -z "$names" ] || curl -fsS -o /dev/null -X DELETE "$es/$names" || die "could not delete the search indices $names"
}

run_migrations() { app_env "$VENV/bin/python" -m eoffice.migrate; }
load_demo_organisation() { app_env "$VENV/bin/python" -m services.directory.load; }
# A mapping change (services/search/indices.py MAPPING_VERSION) takes effect here: the indices
# are rebuilt beside the live ones and swapped in (searches keep working meanwhile).
rebuild_outdated_search() { app_env "$VENV/bin/python" -m services.search.rebuild --if-outdated; }

# The command line of each program.
program_command() {
  if is_standin "$1"; then echo "$VENV/bin/python -m $(standin_args "$1")"; return; fi
  if [ "$1" = "$KEEPER" ]; then echo "$REPO/deploy/eoffice keep"; return; fi
  case "$1" in
    gateway) echo "$VENV/bin/gunicorn -c $REPO/deploy/gunicorn.conf.py $(service_target gateway)" ;;
    *) echo "$VENV/bin/nameko run --config $REPO/deploy/nameko.yaml $(service_target "$1")" ;;
  esac
}

# supervisord.conf from the repository's template and this machine's settings. Programs run as
# the unprivileged $EOFFICE_APP_USER; supervisord itself runs as root to switch to it.
write_supervisor_conf() {
  install -d -m 700 -o root -g root "$SUPERVISOR_DIR"
  local env_line tmp="$SUPERVISOR_CONF.tmp"
  # supervisord expands %(...)s in values: a literal % is written %%.
  # Only what $PROGRAM_ENV sets reaches the programs: not, say, a test environment's buckets
  # exported in the shell that runs `up`.
  env_line="$(unset $PROGRAM_SETTINGS; $PROGRAM_ENV; PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"; for v in PYTHONPATH PATH EOFFICE_AMQP_URI EOFFICE_DATABASE_URL EOFFICE_MINIO_ENDPOINTS \
      EOFFICE_MINIO_ACCESS_KEY EOFFICE_MINIO_SECRET_KEY EOFFICE_TOKEN_SECRET EOFFICE_ELASTICSEARCH_URL \
      EOFFICE_GATEWAY_BIND EOFFICE_PUBLIC_URL EOFFICE_RABBITMQ_MANAGEMENT_URL $PROGRAM_SETTINGS; do [ -z "${!v:-}" ] || printf '%s="%s",' "$v" "${!v//%/%%}"; done)$(standins_env)HOME=\"/tmp\""
  ( umask 077
    sed -e "s|@SUPERVISOR_DIR@|$SUPERVISOR_DIR|g" -e "s|@LOG_DIR@|$PROGRAM_LOG_DIR|g" "$REPO/deploy/supervisor/supervisord.conf" > "$tmp"
    local name count i
    for name in $(supervised); do
      count="$(program_instances "$name")"
      if [ "$count" = 1 ]; then program_section "$name" "$name" "$env_line" >> "$tmp"; continue; fi
      for ((i = 0; i < count; i++)); do program_section "$name" "${name}_$i" "$env_line" "$i" >> "$tmp"; done
      printf '[group:%s]\nprograms=%s\n\n' "$name" "$(seq -s, -f "${name}_%g" 0 $((count - 1)))" >> "$tmp"
    done
    mv "$tmp" "$SUPERVISOR_CONF" )
}

# program_section NAME PROCESS ENV_LINE [INSTANCE]: the [program:PROCESS] section of one process
# of program NAME; instance K of a gateway listens on PROGRAM_GATEWAY_PORT + K (supervisord takes
# the last of two equal keys in `environment`).
program_section() {
  local name="$1" process="$2" env_line="$3" instance="${4:-}" bind=""
  local user="$EOFFICE_APP_USER"; [ "$name" != "$KEEPER" ] || user=root
  sed -e "s|@NAME@|$process|g" -e "s|@COMMAND@|$(program_command "$name")|g" -e "s|@REPO@|$REPO|g" \
      -e "s|@USER@|$user|g" -e "s|@LOG_DIR@|$PROGRAM_LOG_DIR|g" \
      -e "s|@WORKERS@|$(service_workers "$name")|g" "$REPO/deploy/supervisor/program.conf"
  if [ "$name" = "$KEEPER" ]; then
    printf 'environment=EOFFICE_HOME="%s"\n\n' "$EOFFICE_HOME"
  elif is_standin "$name"; then
    printf 'environment=%s,EOFFICE_STANDIN_DIR="%s"\n\n' "$env_line" "$(standin_dir "$name")"
  else
    [ "$name" != gateway ] || [ -z "$instance" ] || bind=",EOFFICE_GATEWAY_BIND=\"127.0.0.1:$((PROGRAM_GATEWAY_PORT + instance))\""
    printf 'environment=%s,EOFFICE_MAX_WORKERS="%s"%s\n\n' "$env_line" "$(service_workers "$name")" "$bind"
  fi
}

# The settings through which our programs use the stand-ins, as supervisord environment pairs
# ('K="V",', or 'K='V',' for a value holding double quotes: the offices' signers, JSON).
# The demo PKI makes its keys, certificates and the offices' token once, here, before its server
# starts (so the two never make them at once); programs run as $EOFFICE_APP_USER, who owns the
# stand-ins' directories.
standins_env() {
  local name
  for name in "${STANDINS[@]}"; do
    install -d -m 700 -o "$EOFFICE_APP_USER" -g "$EOFFICE_APP_USER" "$(standin_dir "$name")"
  done
  if is_standin pki; then
    runuser -u "$EOFFICE_APP_USER" -- env PYTHONPATH="$REPO" HOME=/tmp "$VENV/bin/python" -m eoffice.tools.pki env \
      --dir "$(standin_dir pki)" | awk -F= 'NF >= 2 {k = $1; sub(/^[^=]*=/, ""); gsub(/%/, "%%"); q = index($0, "\"") ? "\047" : "\""; printf "%s=%s%s%s,", k, q, $0, q}'
  fi
  if is_standin mail; then printf 'EOFFICE_SMTP_HOST="127.0.0.1",EOFFICE_SMTP_PORT="8025",EOFFICE_SMTP_SINK_DIR="%s",' "$(standin_dir mail)"; fi
}

# A program of several instances is a supervisord group: its bare name stands for all of them.
supervisorctl_() {
  local args=() arg
  for arg in "$@"; do
    if [[ " ${PROGRAMS[*]} " == *" $arg "* ]] && [ "$(program_instances "$arg")" -gt 1 ]; then args+=("$arg:*"); else args+=("$arg"); fi
  done
  supervisorctl -c "$SUPERVISOR_CONF" "${args[@]}"
}
supervisor_running() { [ -S "$SUPERVISOR_DIR/supervisor.sock" ] && supervisorctl_ pid >/dev/null 2>&1; }
# Every instance of the program running.
program_running() {
  local states; states="$(supervisorctl_ status "$1" 2>/dev/null | awk '{print $2}')" || true
  [ -n "$states" ] && ! grep -qvx RUNNING <<<"$states"
}

# Starts supervisord with every program, or applies a changed configuration: `update` restarts
# only the programs whose configuration changed, so a second `up` restarts nothing.
# When the programs were last (re)started on this code: `up` after a change to the code (a pull,
# an edit) restarts them, one program at a time so that the others keep answering meanwhile.
code_stamp() { echo "$SUPERVISOR_DIR/code-started"; }
code_changed() {
  [ -f "$(code_stamp)" ] || return 0
  [ -n "$(find "$REPO/services" "$REPO/eoffice" "$REPO/deploy/programs" -newer "$(code_stamp)" -type f \
          \( -name '*.py' -o -name '*.js' -o -name '*.html' -o -name '*.css' -o -name programs \) -print -quit)" ]
}
# start_supervisord CONF: the daemon keeps no copy of the start command's output (fd 3, where
# `progress` goes): one it kept held a pipe open, and `deploy/eoffice up | tee log` never ended.
start_supervisord() { (umask 027 && supervisord -c "$1") 3>&-; }

start_supervised() {
  write_supervisor_conf
  local stamp; stamp="$(code_stamp).new"; touch "$stamp"   # before starting: a change from now on counts
  if supervisor_running; then
    supervisorctl_ update >/dev/null
    supervisorctl_ start all >/dev/null 2>&1 || true   # any program an operator stopped
    if code_changed; then
      local name; for name in $(supervised); do if is_ours "$name"; then restart_program "$name"; fi; done
    fi
  else
    # A supervisord that died (kill -9) leaves its programs running, the gateway on its port.
    local left; left="$(programs_left)"
    if [ -n "$left" ]; then echo "stopping the programs a dead supervisord left running (pids $(echo $left))" >&2; stop_pids $left; fi
    local port; for port in $(gateway_ports); do ensure_port_free "$port" "the gateway" EOFFICE_GATEWAY_PORT; done
    start_supervisord "$SUPERVISOR_CONF"
  fi
  mv -f "$stamp" "$(code_stamp)"
}

# One program on new code, a process at a time (its other instances keep taking its calls); the
# gateway by SIGHUP: its master keeps the port open, starts workers on the new code and lets the
# old ones finish their requests (tests/faults/test_rolling_restart.py; docs/scaling.md).
restart_program() {
  local process
  for process in $(supervisorctl -c "$SUPERVISOR_CONF" status | awk -v n="$1" '$1 == n || index($1, n ":") == 1 {print $1}'); do
    if [ "$1" = gateway ]; then supervisorctl -c "$SUPERVISOR_CONF" signal HUP "$process" >/dev/null
    else supervisorctl -c "$SUPERVISOR_CONF" restart "$process" >/dev/null; fi
  done
}

# The programs RUNNING now, each with its pid. `status` exits 3 while any program is not running
# (starting, stopping, stopped): that is a state to compare, not a failure.
running_programs() { { supervisorctl_ status 2>/dev/null || true; } | awk '$2 == "RUNNING" {print $1, $4}'; }

# Starts (or leaves running) every program; done when each service answers its health RPC
# and the gateway its liveness check. Says which programs it found already running.
start_programs() {
  local before="" after
  if supervisor_running; then before="$(running_programs)"; fi
  start_supervised
  wait_for "services" 90 app_env "$VENV/bin/python" -m eoffice.tools.ping "${SERVICES[@]}"
  local port; for port in $(gateway_ports); do wait_for gateway 60 curl -fsS "http://127.0.0.1:$port/api/v1/health/live"; done
  after="$(running_programs)"
  local count; count="$(supervised | wc -w)"
  if [ -n "$before" ] && [ "$before" = "$after" ]; then echo "all $count programs already running, nothing restarted"
  else echo "$count programs running under supervisord, $(comm -13 <(echo "$before" | sort) <(echo "$after" | sort) | wc -l) (re)started (gateway on port $(gateway_ports | paste -sd, -))"; fi
}

# Stops every program and supervisord itself.
stop_services() {
  supervisor_running || return 0
  supervisorctl_ stop all >/dev/null 2>&1 || true
  local pid; pid="$(supervisorctl_ pid)"
  supervisorctl_ shutdown >/dev/null 2>&1 || true
  local i; for ((i = 0; i < 60; i++)); do pid_alive "$pid" || break; sleep 0.5; done
}
restart_services() { write_supervisor_conf; supervisorctl_ update >/dev/null; supervisorctl_ restart all; }

# How often each program died unexpectedly and was restarted, from supervisord's own log.
program_restarts() { grep -cE "exited: $1(_[0-9]+)? \(.*not expected\)" "$PROGRAM_LOG_DIR/supervisord.log" 2>/dev/null || true; }

# The fault suite's own supervised system: every program of ours under a supervisord of its own,
# on the test environment EOFFICE_TEST_ENV=faults (own database, vhost, buckets), with its
# gateway on EOFFICE_FAULTS_GATEWAY_PORT. The running system and its data are not touched;
# the infrastructure is shared, and the suite stops and starts parts of it.
EOFFICE_FAULTS_GATEWAY_PORT="${EOFFICE_FAULTS_GATEWAY_PORT:-8091}"
# EOFFICE_TEST_ENV=NAME runs a second one beside it (database eoffice_test_NAME, supervisor-faults-NAME,
# log/faults-NAME), e.g. while developing a fault test; give it a gateway port of its own.
use_faults_instance() {
  local suffix=""; [ "${EOFFICE_TEST_ENV:-test}" = test ] || suffix="-$EOFFICE_TEST_ENV"
  TEST_ENV="${suffix:+$EOFFICE_TEST_ENV}"; TEST_ENV="${TEST_ENV:-faults}"; TEST_DB="eoffice_test_$TEST_ENV"
  SUPERVISOR_DIR="$EOFFICE_HOME/supervisor-faults$suffix" SUPERVISOR_CONF="$EOFFICE_HOME/supervisor-faults$suffix/supervisord.conf"
  WITH_STANDINS=0 WITH_KEEPER=0 PROGRAM_LOG_DIR="$LOG_DIR/faults$suffix" PROGRAM_ENV=export_faults_env PROGRAM_GATEWAY_PORT="$EOFFICE_FAULTS_GATEWAY_PORT"
  install -d -m 750 -o root -g root "$PROGRAM_LOG_DIR"
}
faults_ping() { ( export_faults_env; exec "$VENV/bin/python" -m eoffice.tools.ping "${SERVICES[@]}" ); }
# Its clients sign in far more often than people do (every test signs in afresh). The long fault
# run (EOFFICE_FAULTRUN=1) subscribes a webhook receiver on loopback, retried within seconds.
export_faults_env() {
  export_test_env
  export EOFFICE_GATEWAY_BIND="127.0.0.1:$EOFFICE_FAULTS_GATEWAY_PORT" \
    EOFFICE_RATE_SIGN_IN_CLIENT=100000/60 EOFFICE_RATE_SIGN_IN_ACCOUNT=100000/60
  if [ "${EOFFICE_FAULTRUN:-0}" = 1 ]; then
    export EOFFICE_WEBHOOK_ALLOW_LOOPBACK=true EOFFICE_WEBHOOK_RETRY_BASE=0.5 EOFFICE_WEBHOOK_RETRY_CAP=5 \
      EOFFICE_WEBHOOK_FAILING_AFTER=100000
  fi
}
start_faults_instance() {
  reset_test_database
  (export_faults_env; "$VENV/bin/python" -m eoffice.migrate && "$VENV/bin/python" -m services.directory.load)
  supervisor_running && stop_services
  rm -f "$PROGRAM_LOG_DIR/supervisord.log"   # restarts are counted from this start
  start_supervised
  wait_for "services" 90 faults_ping
  wait_for gateway 60 curl -fsS "http://127.0.0.1:$EOFFICE_FAULTS_GATEWAY_PORT/api/v1/health/live"
  echo "fault-suite system up: gateway http://127.0.0.1:$EOFFICE_FAULTS_GATEWAY_PORT, programs under $SUPERVISOR_CONF"
}

# The whole-state benchmark's own supervised system (deploy/bench/state.py), built like the
# fault suite's: every program of ours under a supervisord of its own, on the test environment
# "state" (database eoffice_test_state, its vhost, state-* buckets and indices), gateway
# instance K on EOFFICE_STATE_GATEWAY_PORT + K (EOFFICE_INSTANCES=2: two of everything). The
# database is copied from a template holding the synthetic state (`state.py prepare`), so every
# run starts from the same organisation. Production's retry delays and outbox poll, not the
# tests' short ones; sign-in limits raised (the benchmark signs hundreds of people in at once).
EOFFICE_STATE_GATEWAY_PORT="${EOFFICE_STATE_GATEWAY_PORT:-8100}"
use_state_instance() {
  TEST_ENV=state TEST_DB=eoffice_test_state
  SUPERVISOR_DIR="$EOFFICE_HOME/supervisor-state" SUPERVISOR_CONF="$EOFFICE_HOME/supervisor-state/supervisord.conf"
  WITH_STANDINS=0 WITH_KEEPER=0 PROGRAM_LOG_DIR="$LOG_DIR/state" PROGRAM_ENV=export_state_env PROGRAM_GATEWAY_PORT="$EOFFICE_STATE_GATEWAY_PORT"
  install -d -m 750 -o root -g root "$PROGRAM_LOG_DIR"
}
export_state_env() {
  export_test_env
  unset EOFFICE_RETRY_DELAYS EOFFICE_OUTBOX_POLL_INTERVAL
  export EOFFICE_GATEWAY_BIND="127.0.0.1:$EOFFICE_STATE_GATEWAY_PORT" \
    EOFFICE_RATE_SIGN_IN_CLIENT=100000/60 EOFFICE_RATE_SIGN_IN_ACCOUNT=100000/60 \
    EOFFICE_STATE_GATEWAYS="$(gateway_ports | sed 's|^|http://127.0.0.1:|' | paste -sd, -)"
}
state_env() { ( export_state_env; exec "$@" ); }
# start_state_instance [BENCH ARGS]: a fresh copy of the state (built first if need be), then the programs.
start_state_instance() {
  supervisor_running && stop_services
  reset_test_database   # the vhost and search indices afresh; the database is copied again just below
  state_env "$VENV/bin/python" "$REPO/deploy/bench/state.py" prepare "$@"
  rm -f "$PROGRAM_LOG_DIR/supervisord.log"
  start_supervised
  wait_for "services" 300 state_env "$VENV/bin/python" -m eoffice.tools.ping "${SERVICES[@]}"
  local port; for port in $(gateway_ports); do wait_for gateway 60 curl -fsS "http://127.0.0.1:$port/api/v1/health/live"; done
}
