# Start, stop and check the e-Office services (nameko) and the gateway (gunicorn).

SERVICES=(directory dak dak_ocr files signing search notify)

# The nameko class each process runs, and how many workers (= messages taken at once) it has:
# the OCR worker reads one document at a time so it never starves the RPC services.
service_target() {
  case "$1" in
    dak_ocr) echo "services.dak.ocr_worker:OcrWorker" ;;
    *) echo "services.$1.service:${1^}Service" ;;
  esac
}
service_workers() { case "$1" in dak_ocr) echo 1 ;; *) echo 10 ;; esac; }

# The environment of every service process; secrets come from $SECRETS, never the command line.
export_app_env() {
  export PYTHONPATH="$REPO" PATH="$VENV/bin:$PATH" \
    EOFFICE_AMQP_URI="amqp://eoffice:$EOFFICE_AMQP_PASSWORD@127.0.0.1:$EOFFICE_RABBITMQ_PORT/eoffice" \
    EOFFICE_DATABASE_URL="postgresql+psycopg2://eoffice:$EOFFICE_DB_PASSWORD@127.0.0.1:$EOFFICE_PG_PORT/eoffice" \
    EOFFICE_MINIO_ENDPOINTS="$(for p in $EOFFICE_MINIO_PORTS; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')" \
    EOFFICE_MINIO_ACCESS_KEY EOFFICE_MINIO_SECRET_KEY EOFFICE_TOKEN_SECRET \
    EOFFICE_ELASTICSEARCH_URL="http://127.0.0.1:$EOFFICE_ES_PORT" \
    EOFFICE_GATEWAY_BIND="127.0.0.1:$EOFFICE_GATEWAY_PORT" \
    EOFFICE_RABBITMQ_MANAGEMENT_URL="http://127.0.0.1:15672"
}
app_env() { ( export_app_env; exec "$@" ); }

# Tests run against the same infrastructure but never touch the running system's data: their
# own database, RabbitMQ vhost, buckets and index prefix, and short retry delays.
export_test_env() {
  export_app_env
  export EOFFICE_AMQP_URI="${EOFFICE_AMQP_URI%/eoffice}/eoffice_test" \
    EOFFICE_DATABASE_URL="${EOFFICE_DATABASE_URL%/eoffice}/eoffice_test" \
    EOFFICE_DOCUMENTS_BUCKET=test-documents EOFFICE_RECORDS_BUCKET=test-records \
    EOFFICE_INDEX_PREFIX=test EOFFICE_RETRY_DELAYS=0.5,1 EOFFICE_OUTBOX_POLL_INTERVAL=0.5 \
    EOFFICE_HOME EOFFICE_REPO="$REPO"
}

# A fresh test database each run, so tests start from nothing.
reset_test_database() {
  local psql=("$PG_BIN/psql" -h "$RUN_DIR" -p "$EOFFICE_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  as_user "${psql[@]}" -c "DROP DATABASE IF EXISTS eoffice_test WITH (FORCE)"
  as_user "${psql[@]}" -c "CREATE DATABASE eoffice_test OWNER eoffice"
}

run_migrations() { app_env "$VENV/bin/python" -m eoffice.migrate; }
load_demo_organisation() { app_env "$VENV/bin/python" -m services.directory.load; }

start_service() {
  local name="$1" pidf="$RUN_DIR/$1.pid"
  if pidfile_alive "$pidf" nameko; then echo "$name already running (pid $(cat "$pidf"))"; return 0; fi
  # exec all the way down, so that the pid written is nameko's own.
  (cd "$REPO" && export_app_env && export EOFFICE_MAX_WORKERS="$(service_workers "$name")" &&
    exec setsid "$VENV/bin/nameko" run --config "$REPO/deploy/nameko.yaml" \
      "$(service_target "$name")" >>"$LOG_DIR/$name.log" 2>&1 3>&- </dev/null) &
  echo $! > "$pidf"
}
start_services() {
  local s; for s in "${SERVICES[@]}"; do start_service "$s"; done
  # A service is up when it answers its health RPC.
  wait_for "services" 90 app_env "$VENV/bin/python" -m eoffice.tools.ping "${SERVICES[@]}"
  echo "all ${#SERVICES[@]} services answer ping"
}

start_gateway() {
  local pidf="$RUN_DIR/gateway.pid"
  if pidfile_alive "$pidf" gunicorn; then echo "gateway already running (pid $(cat "$pidf"))"; return 0; fi
  ensure_port_free "$EOFFICE_GATEWAY_PORT" "the gateway" EOFFICE_GATEWAY_PORT
  (cd "$REPO" && export_app_env && exec setsid "$VENV/bin/gunicorn" -c "$REPO/deploy/gunicorn.conf.py" \
      --pid "$pidf" services.gateway.app:app >>"$LOG_DIR/gateway.log" 2>&1 3>&- </dev/null) &
  wait_for gateway 60 curl -fsS "http://127.0.0.1:$EOFFICE_GATEWAY_PORT/api/v1/health/live"
}

stop_pidfile() {
  local f="$1" word="$2" pid
  pidfile_alive "$f" "$word" || { rm -f "$f"; return 0; }
  pid="$(cat "$f")"; kill "$pid"
  local i; for ((i = 0; i < 30; i++)); do pid_alive "$pid" || break; sleep 0.5; done
  pid_alive "$pid" && kill -9 "$pid"
  rm -f "$f"
}
stop_services() { local s; stop_pidfile "$RUN_DIR/gateway.pid" gunicorn; for s in "${SERVICES[@]}"; do stop_pidfile "$RUN_DIR/$s.pid" nameko; done; }
