# Sourced by bin/run-sample and bin/serve: runs a JVM with an AOT cache (JDK 25+, JEP 483/514/515: classes
# loaded and linked ahead of time, method profiles), which roughly halves a node's start (README, "Startup").
#
#   run_with_aot_cache MAIN_CLASS CLASSPATH [JVM_OPTION ...] -- [ARG ...]
#
# The first run trains the cache (-XX:AOTCacheOutput: the JVM records what it loads while it runs and writes the
# cache when it exits); later runs use it (-XX:AOTCache). The cache file, under target/aot/, is named by a hash of
# the JDK, the JVM options, the main class and every class path entry's path, size and modification time, so a
# rebuilt jar, another JDK or other options train a new cache instead of meeting a stale one (the JVM checks the jars
# too, and silently starts without a cache that does not match). NETHERITE_AOT=off runs without a cache; JDKs before
# 25 always do.
run_with_aot_cache() {
  local main="$1" cp="$2"
  shift 2
  local jvm=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do jvm+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  local version
  version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release" 2>/dev/null)
  if [ "${NETHERITE_AOT:-on}" = off ] || [ -z "$version" ] || [ "$version" -lt 25 ]; then
    exec java $JVM_FLAGS "${jvm[@]}" -cp "$cp" "$main" "$@"
  fi
  local dir=target/aot key entry
  key=$( {
    echo "$JAVA_HOME $(cat "$JAVA_HOME/release" 2>/dev/null | tr '\n' ' ')"
    # Not the process id that bin/env.sh passes: it changes with every run and plays no part in the cache.
    echo "$(echo "$JVM_FLAGS" | sed 's/-Dcom\.datastax\.oss\.driver\.PID=[0-9]*//') ${jvm[*]} $main"
    local IFS=:
    for entry in $cp; do stat -L -c '%n %s %Y' "$entry" 2>/dev/null || echo "$entry missing"; done
  } | sha1sum | cut -c1-16)
  local name="${main##*.}"
  local cache="$dir/$name-$key.aot"
  mkdir -p "$dir"
  if [ -f "$cache" ]; then
    # -Xlog:aot*=off,cds*=off: if the JVM cannot use the cache after all (its check is stricter than the key),
    # it starts without it, without a warning.
    exec java $JVM_FLAGS "${jvm[@]}" -XX:AOTCache="$cache" -Xlog:aot*=off,cds*=off -cp "$cp" "$main" "$@"
  fi
  # Training: the JVM writes the cache at exit (it assembles it in a child JVM, a few seconds); into a temporary
  # file, renamed once complete, so that an interrupted training leaves nothing half written to be used.
  rm -f "$dir/$name"-*.aot "$dir/$name"-*.aot.tmp*
  echo "First run with this build: training an AOT cache for faster starts (written when this run ends)." >&2
  local tmp="$cache.tmp$$" status=0
  # The JVM passes the options to its child in JAVA_TOOL_OPTIONS, and the child's launcher prints them all (the
  # whole class path): that one line is dropped.
  java $JVM_FLAGS "${jvm[@]}" -XX:AOTCacheOutput="$tmp" -Xlog:aot*=off,cds*=off -cp "$cp" "$main" "$@" \
    2> >(grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' >&2) || status=$?
  if [ -s "$tmp" ]; then mv -f "$tmp" "$cache"; else rm -f "$tmp"; fi
  return "$status"
}

# The samples module's jar (the build's, not its tests').
samples_jar() {
  local jar
  for jar in samples/target/netherite-samples-*.jar; do
    case "$jar" in *-tests.jar | *-sources.jar) ;; *) echo "$jar"; return ;; esac
  done
  echo "No samples jar in samples/target: build first (mvn install -DskipTests)." >&2
  return 1
}
