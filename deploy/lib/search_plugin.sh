# The search service's analysis plugin for Elasticsearch (services/search/plugin): Lucene's
# Hindi and English filters, which the integ-test zip we run ships in lib/ but does not expose.
# Built here with Debian's javac against the zip's own jars (nothing is downloaded) and
# installed as a stable plugin. Sourced by deploy/lib/install.sh.

SEARCH_PLUGIN_SRC="$REPO/services/search/plugin"
SEARCH_PLUGIN_NAME="eoffice-analysis"
SEARCH_PLUGIN_STAMP="$OPT_DIR/$SEARCH_PLUGIN_NAME.sha256"   # the source hash last installed

# install_search_plugin: builds and installs the plugin when its source (or the Elasticsearch
# version) changed since the last install, or when it is missing; otherwise does nothing. If
# Elasticsearch was running, it is restarted once so that it loads the new plugin.
install_search_plugin() {
  local hash
  hash="$( (cd "$SEARCH_PLUGIN_SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$ES_VERSION") | sha256sum | cut -c1-64)"
  if [ -d "$ES_HOME/plugins/$SEARCH_PLUGIN_NAME" ] && [ "$(cat "$SEARCH_PLUGIN_STAMP" 2>/dev/null)" = "$hash" ]; then
    echo "search analysis plugin present (source ${hash:0:12})"; return 0
  fi
  command -v javac >/dev/null || { echo "javac not found: the Debian package openjdk-17-jdk-headless provides it"; return 1; }
  local lib="$ES_HOME/lib" tmp; tmp="$(mktemp -d)"
  local classpath; classpath="$(ls "$lib"/elasticsearch-plugin-api-*.jar "$lib"/elasticsearch-plugin-analysis-api-*.jar \
    "$lib"/lucene-core-*.jar "$lib"/lucene-analysis-common-*.jar | paste -sd:)"
  mkdir -p "$tmp/classes" "$tmp/zip"
  javac --release 17 -nowarn -cp "$classpath" -d "$tmp/classes" $(find "$SEARCH_PLUGIN_SRC/src" -name '*.java')
  jar --create --file "$tmp/zip/$SEARCH_PLUGIN_NAME.jar" -C "$tmp/classes" .
  cp "$SEARCH_PLUGIN_SRC/named_components.json" "$tmp/zip/"
  # The declared Elasticsearch version is the server's own: a newer one is refused at install.
  sed -e "s/@ES_VERSION@/$ES_VERSION/" -e "s/@PLUGIN_VERSION@/${hash:0:12}/" \
    "$SEARCH_PLUGIN_SRC/stable-plugin-descriptor.properties" > "$tmp/zip/stable-plugin-descriptor.properties"
  (cd "$tmp/zip" && jar --create --no-manifest --file "$tmp/$SEARCH_PLUGIN_NAME.zip" .)
  chmod -R a+rX "$tmp"
  local running=0
  pidfile_alive "$RUN_DIR/elasticsearch.pid" elasticsearch && running=1
  local cli=(as_user env ES_JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" ES_PATH_CONF="$ES_HOME/config" "$ES_HOME/bin/elasticsearch-plugin")
  if [ -d "$ES_HOME/plugins/$SEARCH_PLUGIN_NAME" ]; then "${cli[@]}" remove --silent "$SEARCH_PLUGIN_NAME"; fi
  "${cli[@]}" install --batch --silent "file://$tmp/$SEARCH_PLUGIN_NAME.zip"
  rm -rf "$tmp"
  echo "$hash" > "$SEARCH_PLUGIN_STAMP"
  if [ "$running" = 1 ]; then
    progress "restarting Elasticsearch to load the new search analysis plugin"
    stop_elasticsearch
    start_elasticsearch >/dev/null
  fi
  echo "search analysis plugin installed (source ${hash:0:12})$([ "$running" = 1 ] && echo ", Elasticsearch restarted")"
}
