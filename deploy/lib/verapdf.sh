# veraPDF, the PDF/A validator (Maven Central: org.verapdf.apps:greenfield-apps), for the tests
# that check issued letters are PDF/A (tests/integration/test_signing_letters.py). Sourced by
# deploy/lib/install.sh; `deploy/eoffice install` runs `install_verapdf`.
VERAPDF_VERSION="${VERAPDF_VERSION:-1.28.2}"

install_verapdf() {
  local home="$OPT_DIR/verapdf-$VERAPDF_VERSION" launcher="$BIN_DIR/verapdf"
  if [ -x "$launcher" ] && [ -s "$home/classpath" ]; then echo "verapdf $VERAPDF_VERSION present"; return 0; fi
  mkdir -p "$home" "$BIN_DIR"
  # A one-dependency project whose classpath Maven resolves (and downloads) for us.
  cat > "$home/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>eoffice</groupId><artifactId>verapdf</artifactId><version>1</version>
<dependencies><dependency><groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId>
<version>$VERAPDF_VERSION</version></dependency></dependencies></project>
POM
  (cd "$home" && mvn -B -ntp -q dependency:copy-dependencies -DoutputDirectory="$home/lib" -Dmdep.useBaseVersion=true)
  ls "$home"/lib/*.jar | paste -sd: > "$home/classpath.tmp" && mv "$home/classpath.tmp" "$home/classpath"
  cat > "$launcher" <<SH
#!/bin/sh
# veraPDF $VERAPDF_VERSION command line (deploy/lib/verapdf.sh): verapdf [--flavour 3a] [--format text] FILE...
exec java -cp "\$(cat "$home/classpath")" org.verapdf.apps.GreenfieldCliWrapper "\$@"
SH
  chmod 755 "$launcher"
  echo "verapdf $VERAPDF_VERSION in $home"
}
