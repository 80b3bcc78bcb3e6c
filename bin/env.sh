# Sourced by the scripts in bin/: picks a JDK 21+ for Maven and the engine (Cassandra finds its own JDK 17).
if [ -z "${NETHERITE_JAVA_HOME:-}" ]; then
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$candidate/release" 2>/dev/null)
    if [ -n "$version" ] && [ "$version" -ge 21 ]; then NETHERITE_JAVA_HOME="$candidate"; break; fi
  done
fi
if [ -z "${NETHERITE_JAVA_HOME:-}" ]; then
  echo "No JDK 21 or newer found (looked at JAVA_HOME and /usr/lib/jvm). Install one, or set NETHERITE_JAVA_HOME." >&2
  exit 1
fi
export JAVA_HOME="$NETHERITE_JAVA_HOME"
export PATH="$JAVA_HOME/bin:$PATH"
# com.datastax.oss.driver.PID: the Cassandra driver would otherwise load jnr-ffi to read the process id (for its
# time-based UUIDs), which slows a node's start (README, "Startup"). Scripts that exec java give it its own pid;
# the others the shell's, as unique on this machine while the JVM runs, which is all the UUIDs need.
JVM_FLAGS="-Dcom.datastax.oss.driver.PID=$$ --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED"
