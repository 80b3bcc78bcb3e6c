package dev.netherite.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.datastax.oss.driver.api.core.config.TypedDriverOption;
import com.datastax.oss.driver.api.core.cql.Row;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real, single-node Apache Cassandra 5.0 server in a child process, for the samples and the test
 * suites.
 *
 * <p>The server is {@code org.apache.cassandra.service.CassandraDaemon} from the {@code
 * cassandra-all} jars that the {@code netherite-conf} module resolves (its classpath is the
 * resource {@code /netherite/cassandra-server.classpath}); those jars never join the application's
 * classpath. Cassandra 5.0 runs only on JDK 11 or 17, while Netherite runs on JDK 21 or later, so
 * the server is forked with a separate JDK 17 (see {@link Builder#javaHome(Path)} for how it is
 * found).
 *
 * <p>Typical use, one server per test run (see {@link TestCassandra} for the shared one):
 *
 * <pre>{@code
 * try (EmbeddedCassandra cassandra = EmbeddedCassandra.builder().cqlPort(9142).clean(true).build().start()) {
 *   DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
 *       .withStringList(DefaultDriverOption.CONTACT_POINTS, List.of(cassandra.contactPoint()))
 *       .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, EmbeddedCassandra.LOCAL_DATACENTER)
 *       .build();
 *   try (CqlSession session = CqlSession.builder().withConfigLoader(config).build()) {
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>Set the contact points in the configuration, as above, rather than with {@code
 * CqlSession.Builder.addContactPoint}: the driver adds those to the ones configured (e.g. {@code
 * 127.0.0.1:9042} in a {@code reference.conf}) and may connect to another server.
 *
 * <p>{@link #start()} writes {@code cassandra.yaml} (from the template {@code
 * conf/cassandra.yaml}), the JVM options and a logging configuration into the data directory, forks
 * the server with its output going to {@code <dataDirectory>/cassandra.log}, and returns once a CQL
 * session can query {@code system.local}. It refuses to start when something already listens on the
 * CQL or storage port, and never attaches to a server it did not start. A shutdown hook stops the
 * server when this JVM exits normally or on SIGTERM/SIGINT; a JVM killed with SIGKILL cannot run
 * it, and then leaves the server behind.
 *
 * <p>For scripts, {@link #main(String[])} runs a server in the foreground and prints {@code
 * CASSANDRA READY 127.0.0.1:<port>} once it accepts CQL sessions.
 *
 * <p>Instances are thread-safe. After {@link #stop()}, {@link #start()} may be called again: the
 * server restarts on the same data directory, which is how a test observes what survived a restart.
 */
public final class EmbeddedCassandra implements AutoCloseable {

  /**
   * The datacenter of the node ({@code SimpleSnitch}'s), which the driver must be given as local.
   */
  public static final String LOCAL_DATACENTER = "datacenter1";

  /** The system property that names the JDK 17 home to run Cassandra with. */
  public static final String JAVA_HOME_PROPERTY = "netherite.cassandra.java-home";

  /**
   * The environment variable that names the JDK 17 home, when {@link #JAVA_HOME_PROPERTY} is not
   * set.
   */
  public static final String JAVA_HOME_ENV = "NETHERITE_CASSANDRA_JAVA_HOME";

  /**
   * The line {@link #main(String[])} prints, followed by the contact point, once the server is
   * ready.
   */
  public static final String READY_LINE = "CASSANDRA READY";

  /**
   * The superuser that Cassandra creates at its first start with {@code PasswordAuthenticator}
   * ({@link Builder#passwordAuthentication(boolean)}); its password is the same word.
   */
  public static final String DEFAULT_SUPERUSER = "cassandra";

  /**
   * When an acknowledged write is durable: the {@code commitlog_sync} setting of {@code
   * cassandra.yaml}. The engine acknowledges a client's request once Cassandra acknowledged its
   * write, so only {@link #GROUP} and {@link #BATCH} make "acknowledged" mean "durable"; the
   * default is {@link #BATCH}. Every benchmark result must say which mode it ran with.
   */
  public enum CommitlogSync {
    /**
     * Acknowledges a write before it is fsynced; the commit log is fsynced every 10 s. Measured
     * here, a kill -9 of Cassandra under load lost 6-8 acknowledged starts and transfers, accepted
     * up to 34 ms before the kill (the writes were acknowledged but not yet in the commit log
     * file), and a crash of the machine may lose the last 10 s. Cheapest; for benchmarks and tests
     * that never crash Cassandra, never for data that matters.
     */
    PERIODIC("periodic", "commitlog_sync_period: 10000ms"),
    /**
     * Fsyncs the commit log every 2 ms and acknowledges the writes of each window after its fsync:
     * durable against a machine crash, at the cost of up to 2 ms of latency.
     */
    GROUP("group", "commitlog_sync_group_window: 2ms"),
    /**
     * Fsyncs as soon as writes arrive and acknowledges after the fsync: durable, latency of one
     * fsync.
     */
    BATCH("batch", null);

    private final String yamlName;
    private final String parameter;

    CommitlogSync(String yamlName, String parameter) {
      this.yamlName = yamlName;
      this.parameter = parameter;
    }

    /** The value of {@code commitlog_sync} in {@code cassandra.yaml}, e.g. {@code periodic}. */
    public String yamlName() {
      return yamlName;
    }

    /** Parses {@code periodic}, {@code group} or {@code batch}, in any case. */
    public static CommitlogSync parse(String name) {
      for (CommitlogSync mode : values()) {
        if (mode.yamlName.equalsIgnoreCase(name)) {
          return mode;
        }
      }
      throw new IllegalArgumentException(
          "Unknown commitlog_sync mode '" + name + "': expected periodic, group or batch.");
    }

    // Cassandra rejects the parameters of the other modes (e.g. a sync period with batch), so the
    // template
    // receives the mode and its only parameter together.
    String yamlSettings() {
      return "commitlog_sync: " + yamlName + (parameter == null ? "" : "\n" + parameter);
    }
  }

  private static final String CLASSPATH_RESOURCE = "/netherite/cassandra-server.classpath";
  private static final String YAML_RESOURCE = "/netherite/conf/cassandra.yaml";
  private static final String MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon";
  private static final String LOG_FILE = "cassandra.log";
  private static final String YAML_FILE = "cassandra.yaml";
  private static final List<String> STORAGE_DIRECTORIES =
      List.of("data", "commitlog", "hints", "saved_caches", "cdc_raw");
  private static final List<Path> JDK_SEARCH_ROOTS =
      List.of(Path.of("/usr/lib/jvm"), Path.of("/Library/Java/JavaVirtualMachines"));
  private static final Pattern HEAP = Pattern.compile("[1-9][0-9]{0,6}[mMgG]");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-z_]+)}");
  private static final int LOG_TAIL_LINES = 40;
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  private static final List<String> MAIN_OPTIONS_WITH_VALUE =
      List.of(
          "--data-dir",
          "--port",
          "--storage-port",
          "--commitlog-sync",
          "--heap",
          "--java-home",
          "--startup-timeout-seconds");
  private static final String PASSWORD_AUTH_OPTION = "--password-authentication";

  // Cassandra 5.0's conf/jvm17-server.options, verbatim apart from the commented-out and GC-logging
  // lines.
  private static final List<String> JVM17_SERVER_OPTIONS =
      List.of(
          "-XX:+UseG1GC",
          "-XX:+ParallelRefProcEnabled",
          "-XX:MaxTenuringThreshold=1",
          "-XX:G1HeapRegionSize=16m",
          "-XX:G1RSetUpdatingPauseTimePercent=5",
          "-XX:MaxGCPauseMillis=300",
          "-XX:InitiatingHeapOccupancyPercent=70",
          "-Djdk.attach.allowAttachSelf=true",
          "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports=java.sql/java.sql=ALL-UNNAMED",
          "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "-Dio.netty.tryReflectionSetAccessible=true",
          "-Dio.netty.allocator.useCacheForAllThreads=true",
          "-Dio.netty.allocator.maxOrder=11");

  // Cassandra's default logback.xml writes a rolling system.log, a debug.log and the console, with
  // caller data
  // (%F:%L) that costs CPU on every line. One INFO stream, redirected to cassandra.log, is all a
  // test needs.
  private static final String LOGBACK_XML =
      """
      <configuration scan="false">
        <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder><pattern>%-5level [%thread] %date{ISO8601} %logger{0} - %msg%n</pattern></encoder>
        </appender>
        <root level="INFO"><appender-ref ref="STDOUT"/></root>
      </configuration>
      """;

  private final Path dataDirectory;
  private final int cqlPort;
  private final int storagePort;
  private final CommitlogSync commitlogSync;
  private final String heap;
  private final Path javaHome;
  private final Duration startupTimeout;
  private final boolean clean;
  private final boolean passwordAuthentication;

  // Read without the monitor by the shutdown hook, which must never wait for a start() in progress.
  private volatile Process process;
  private Thread shutdownHook;
  private boolean cleanedOnce;

  private EmbeddedCassandra(Builder builder, Path javaHome) {
    this.dataDirectory = builder.dataDirectory.toAbsolutePath().normalize();
    this.cqlPort = builder.cqlPort;
    this.storagePort = builder.storagePort;
    this.commitlogSync = builder.commitlogSync;
    this.heap = builder.heap;
    this.javaHome = javaHome;
    this.startupTimeout = builder.startupTimeout;
    this.clean = builder.clean;
    this.passwordAuthentication = builder.passwordAuthentication;
  }

  /** A builder with the defaults documented on each of its methods. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Settings of an {@link EmbeddedCassandra}. {@link #build()} validates them and finds the JDK 17;
   * nothing is written or started before {@link EmbeddedCassandra#start()}.
   */
  public static final class Builder {
    private Path dataDirectory = Path.of("target", "embedded-cassandra");
    private int cqlPort = 9042;
    private int storagePort = 7000;
    private CommitlogSync commitlogSync = CommitlogSync.BATCH;
    private String heap = "768m";
    private Path javaHome;
    private Duration startupTimeout = Duration.ofSeconds(90);
    private boolean clean;
    private boolean passwordAuthentication;

    private Builder() {}

    /**
     * Whether clients must log in ({@code PasswordAuthenticator}) rather than connect freely
     * ({@code AllowAllAuthenticator}). Cassandra then creates the superuser {@value
     * #DEFAULT_SUPERUSER} (password {@value #DEFAULT_SUPERUSER}) at once, which creates further
     * roles ({@code CREATE ROLE app WITH PASSWORD = '...' AND LOGIN = true}); this launcher's own
     * readiness check logs in as it. Authorization stays off. Default: false.
     */
    public Builder passwordAuthentication(boolean passwordAuthentication) {
      this.passwordAuthentication = passwordAuthentication;
      return this;
    }

    /**
     * The directory that holds everything of this node: data, commit log, hints, saved caches, the
     * generated {@code cassandra.yaml} and {@code cassandra.log}. Default: {@code
     * target/embedded-cassandra}, relative to the working directory.
     */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
      return this;
    }

    /** The CQL (native transport) port on 127.0.0.1. Default: 9042. */
    public Builder cqlPort(int cqlPort) {
      this.cqlPort = cqlPort;
      return this;
    }

    /** The inter-node storage port on 127.0.0.1, bound even by a single node. Default: 7000. */
    public Builder storagePort(int storagePort) {
      this.storagePort = storagePort;
      return this;
    }

    /** When an acknowledged write is durable. Default: {@link CommitlogSync#BATCH}. */
    public Builder commitlogSync(CommitlogSync commitlogSync) {
      this.commitlogSync = Objects.requireNonNull(commitlogSync, "commitlogSync");
      return this;
    }

    /**
     * The server's maximum heap ({@code -Xmx}) in the JVM's notation, e.g. {@code 768m} or {@code
     * 1g}; the heap starts at a quarter of it (at least 128 MB) and grows on demand. At least
     * {@code 256m}. Default: {@code 768m}; the process is then about 0.7 GB resident after startup,
     * and grows with the heap under load.
     */
    public Builder heap(String heap) {
      this.heap = Objects.requireNonNull(heap, "heap");
      return this;
    }

    /**
     * The JDK 17 home to run Cassandra with. Without it, {@link #build()} uses the system property
     * {@value EmbeddedCassandra#JAVA_HOME_PROPERTY}, else the environment variable {@value
     * EmbeddedCassandra#JAVA_HOME_ENV}, else the first directory under {@code /usr/lib/jvm} (or
     * {@code /Library/Java/JavaVirtualMachines}) whose {@code release} file says {@code
     * JAVA_VERSION="17...}.
     */
    public Builder javaHome(Path javaHome) {
      this.javaHome = Objects.requireNonNull(javaHome, "javaHome");
      return this;
    }

    /**
     * How long {@link EmbeddedCassandra#start()} waits for the first CQL session. Default: 90
     * seconds.
     */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Objects.requireNonNull(startupTimeout, "startupTimeout");
      return this;
    }

    /**
     * Whether the first {@link EmbeddedCassandra#start()} deletes the data directory first, so the
     * node starts empty; later starts of the same instance (restarts) keep the data. Only a
     * directory that is empty or that an earlier start wrote a {@code cassandra.yaml} into is
     * deleted. Default: false.
     */
    public Builder clean(boolean clean) {
      this.clean = clean;
      return this;
    }

    /**
     * Validates the settings and finds the JDK 17.
     *
     * @throws IllegalArgumentException if a port or the heap is invalid
     * @throws IllegalStateException if no JDK 17 is found, or the one given is not a JDK 17
     */
    public EmbeddedCassandra build() {
      requirePort(cqlPort, "cqlPort");
      requirePort(storagePort, "storagePort");
      if (cqlPort == storagePort) {
        throw new IllegalArgumentException(
            "The CQL port and the storage port are both "
                + cqlPort
                + "; give them different values.");
      }
      if (!HEAP.matcher(heap).matches() || megabytes(heap) < 256) {
        throw new IllegalArgumentException(
            "Invalid heap '" + heap + "': give a size of at least 256m, such as 768m or 1g.");
      }
      if (startupTimeout.isNegative() || startupTimeout.isZero()) {
        throw new IllegalArgumentException(
            "The startup timeout must be positive, not " + startupTimeout + ".");
      }
      return new EmbeddedCassandra(
          this,
          resolveJavaHome(
              javaHome,
              System.getProperty(JAVA_HOME_PROPERTY),
              System.getenv(JAVA_HOME_ENV),
              JDK_SEARCH_ROOTS));
    }

    private static void requirePort(int port, String name) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException(
            name + " must be between 1 and 65535, not " + port + ".");
      }
    }
  }

  /**
   * Starts the server and waits until it accepts CQL sessions.
   *
   * @return this instance, for try-with-resources
   * @throws IllegalStateException if the server is already running, a port is in use, the server
   *     exits during startup or is not ready within the startup timeout (the message then ends with
   *     the last lines of {@code cassandra.log}), or the Cassandra classpath is missing
   */
  public synchronized EmbeddedCassandra start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(
          "Cassandra is already running on " + contactPoint() + " (pid " + process.pid() + ").");
    }
    stop(); // forgets a server that exited on its own, and its shutdown hook
    requirePortFree(cqlPort, "CQL port", "cqlPort(int), or --port for main");
    requirePortFree(storagePort, "storage port", "storagePort(int), or --storage-port for main");
    List<String> classpath = serverClasspath();
    if (clean && !cleanedOnce) {
      deleteDataDirectory();
      cleanedOnce = true;
    }
    prepareDataDirectory(classpath);
    Path log = dataDirectory.resolve(LOG_FILE);
    System.out.printf(
        "EmbeddedCassandra: starting Cassandra with %s on %s (commitlog_sync %s, heap %s, log %s)%n",
        javaHome, contactPoint(), commitlogSync.yamlName(), heap, log);

    long startNanos = System.nanoTime();
    Process started = launch(log);
    process = started;
    shutdownHook = new Thread(() -> terminate(started), "embedded-cassandra-shutdown-" + cqlPort);
    Runtime.getRuntime().addShutdownHook(shutdownHook);

    String version;
    try {
      version = awaitCql(started, startNanos, log);
    } catch (RuntimeException | Error e) {
      stop();
      throw e;
    }
    System.out.printf(
        "EmbeddedCassandra: Cassandra %s ready on %s after %.1f s (pid %d)%n",
        version, contactPoint(), (System.nanoTime() - startNanos) / 1e9, started.pid());
    return this;
  }

  /**
   * Stops the server: SIGTERM, which lets Cassandra flush and close cleanly, then SIGKILL if it has
   * not exited within 30 seconds. Does nothing if the server is not running; safe to call more than
   * once.
   */
  public synchronized void stop() {
    Process running = process;
    if (running == null) {
      return;
    }
    process = null;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException jvmAlreadyShuttingDown) {
      // The hook is running or about to; terminating twice is harmless.
    }
    shutdownHook = null;
    long startNanos = System.nanoTime();
    terminate(running);
    System.out.printf(
        "EmbeddedCassandra: Cassandra on %s stopped in %.1f s (exit code %s)%n",
        contactPoint(),
        (System.nanoTime() - startNanos) / 1e9,
        running.isAlive() ? "unknown" : String.valueOf(running.exitValue()));
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /** The address to give the driver: {@code 127.0.0.1:<cqlPort>}. */
  public String contactPoint() {
    return "127.0.0.1:" + cqlPort;
  }

  /** The CQL port on 127.0.0.1. */
  public int cqlPort() {
    return cqlPort;
  }

  /** The inter-node storage port on 127.0.0.1. */
  public int storagePort() {
    return storagePort;
  }

  /** The durability mode the server runs with. */
  public CommitlogSync commitlogSync() {
    return commitlogSync;
  }

  /** The absolute data directory (see {@link Builder#dataDirectory(Path)}). */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /** The JDK 17 home the server runs with. */
  public Path javaHome() {
    return javaHome;
  }

  /** The server's log: its standard output and error. */
  public Path logFile() {
    return dataDirectory.resolve(LOG_FILE);
  }

  /** Whether the server process was started by this instance and has not exited. */
  public boolean isRunning() {
    Process running = process;
    return running != null && running.isAlive();
  }

  /**
   * The process id of the server.
   *
   * @throws IllegalStateException if the server is not running
   */
  public long pid() {
    Process running = process;
    if (running == null) {
      throw new IllegalStateException("Cassandra is not running on " + contactPoint() + ".");
    }
    return running.pid();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Starting

  private static void requirePortFree(int port, String role, String howToChange) {
    // A bind, rather than a connect, also catches a listener on 0.0.0.0 or one that does not answer
    // yet.
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot start Cassandra: 127.0.0.1:"
              + port
              + " (the "
              + role
              + ") is already in use ("
              + e.getMessage()
              + "). It may be a Cassandra left over from an earlier run (look with `pgrep -af CassandraDaemon`) or"
              + " another service: stop it, or choose another port with EmbeddedCassandra.Builder."
              + howToChange
              + ". EmbeddedCassandra never reuses a server it did not start.",
          e);
    }
  }

  private static List<String> serverClasspath() {
    String text;
    try (InputStream in = EmbeddedCassandra.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "The Cassandra server classpath "
                + CLASSPATH_RESOURCE
                + " is not on the classpath: add the netherite-conf module as a dependency (it is built by"
                + " `mvn -pl conf install`).");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + CLASSPATH_RESOURCE, e);
    }
    List<String> entries = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String entry : text.split(File.pathSeparator)) {
      if (!entry.isBlank()) {
        entries.add(entry);
        if (!Files.isRegularFile(Path.of(entry))) {
          missing.add(entry);
        }
      }
    }
    if (entries.isEmpty() || !missing.isEmpty()) {
      throw new IllegalStateException(
          "The Cassandra server classpath "
              + CLASSPATH_RESOURCE
              + " names jars that do not exist on this machine ("
              + missing.size()
              + " missing, e.g. "
              + (missing.isEmpty() ? "none listed" : missing.get(0))
              + "). It holds absolute paths into the local Maven repository of the machine that built"
              + " netherite-conf: rebuild it here with `mvn -pl conf install`.");
    }
    return entries;
  }

  private void deleteDataDirectory() {
    if (!Files.exists(dataDirectory)) {
      return;
    }
    // Deleting recursively is only safe for a directory this class created: refuse anything else,
    // so that a
    // mistyped --data-dir cannot wipe a home directory.
    try (Stream<Path> children = Files.list(dataDirectory)) {
      boolean empty = children.findAny().isEmpty();
      if (!empty && !Files.isRegularFile(dataDirectory.resolve(YAML_FILE))) {
        throw new IllegalStateException(
            "Refusing to clean "
                + dataDirectory
                + ": it is not empty and has no cassandra.yaml, so EmbeddedCassandra did not create it. Choose"
                + " another data directory, or delete it yourself.");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + dataDirectory, e);
    }
    deleteRecursively(dataDirectory);
  }

  /**
   * Deletes the node's data, commit log, hints and caches, and keeps its configuration and log; for
   * a server whose data is thrown away after the run (see {@link TestCassandra}).
   */
  synchronized void deleteStorage() {
    if (process != null) {
      throw new IllegalStateException(
          "Cannot delete the storage of the running Cassandra on " + contactPoint());
    }
    for (String directory : STORAGE_DIRECTORIES) {
      deleteRecursively(dataDirectory.resolve(directory));
    }
  }

  private static void deleteRecursively(Path directory) {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + directory, e);
    }
  }

  private void prepareDataDirectory(List<String> classpath) {
    try {
      for (String directory : STORAGE_DIRECTORIES) {
        Files.createDirectories(dataDirectory.resolve(directory));
      }
      Path yaml = dataDirectory.resolve(YAML_FILE);
      Files.writeString(yaml, renderYaml());
      Path logback = dataDirectory.resolve("logback.xml");
      Files.writeString(logback, LOGBACK_XML);
      List<String> jvmOptions = jvmOptions(classpath, yaml, logback);
      // The options go into an argument file: the command line stays short enough to read in `ps`,
      // and the
      // file lets a person rerun the exact server by hand: <jdk17>/bin/java @jvm.options
      // CassandraDaemon.
      Files.write(
          dataDirectory.resolve("jvm.options"),
          jvmOptions.stream().map(EmbeddedCassandra::quoteForArgumentFile).toList());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot prepare the Cassandra data directory " + dataDirectory, e);
    }
  }

  private String renderYaml() {
    String template;
    try (InputStream in = EmbeddedCassandra.class.getResourceAsStream(YAML_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "The cassandra.yaml template "
                + YAML_RESOURCE
                + " is not on the classpath (module netherite-conf).");
      }
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + YAML_RESOURCE, e);
    }
    Map<String, String> values = new LinkedHashMap<>();
    values.put("storage_port", String.valueOf(storagePort));
    values.put("native_transport_port", String.valueOf(cqlPort));
    values.put("data_file_directory", yamlQuoted(dataDirectory.resolve("data")));
    values.put("commitlog_directory", yamlQuoted(dataDirectory.resolve("commitlog")));
    values.put("hints_directory", yamlQuoted(dataDirectory.resolve("hints")));
    values.put("saved_caches_directory", yamlQuoted(dataDirectory.resolve("saved_caches")));
    values.put("cdc_raw_directory", yamlQuoted(dataDirectory.resolve("cdc_raw")));
    values.put("commitlog_sync", commitlogSync.yamlSettings());
    values.put(
        "authenticator",
        passwordAuthentication ? "PasswordAuthenticator" : "AllowAllAuthenticator");
    Matcher matcher = PLACEHOLDER.matcher(template);
    StringBuilder yaml = new StringBuilder();
    while (matcher.find()) {
      String value = values.get(matcher.group(1));
      if (value == null) {
        throw new IllegalStateException(
            "The cassandra.yaml template has an unknown placeholder ${" + matcher.group(1) + "}.");
      }
      matcher.appendReplacement(yaml, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(yaml);
    return yaml.toString();
  }

  // The template puts directory placeholders inside double quotes; escape what a YAML double-quoted
  // scalar needs.
  private static String yamlQuoted(Path path) {
    return path.toString().replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private List<String> jvmOptions(List<String> classpath, Path yaml, Path logback) {
    String jamm =
        classpath.stream()
            .filter(entry -> Path.of(entry).getFileName().toString().startsWith("jamm-"))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "The Cassandra server classpath has no jamm jar, which Cassandra needs as a Java agent to"
                            + " measure memtable sizes; rebuild netherite-conf with `mvn -pl conf install`."));
    List<String> options = new ArrayList<>(JVM17_SERVER_OPTIONS);
    // Cassandra calls mlockall() at startup, which (for root, or with an unlimited memlock limit)
    // makes every
    // committed page resident at once: with -Xms equal to -Xmx, as Cassandra recommends, each test
    // server would be
    // about 1.2 GB resident from its first second instead of about 0.7 GB. The heap still grows to
    // -Xmx on demand.
    options.add("-Xms" + initialHeapMegabytes() + "m");
    options.add("-Xmx" + heap);
    // From Cassandra's jvm-server.options. Left out: -XX:+AlwaysPreTouch (commits the whole heap up
    // front),
    // -ea (costs CPU on a shared 2-core machine), -Xss256k, -XX:+UseNUMA and the heap dump on OOM
    // (a test server
    // would write its whole heap into the data directory).
    options.add("-XX:+PerfDisableSharedMem");
    options.add("-Djava.net.preferIPv4Stack=true");
    // Cassandra warns without one of these: continuing after an OutOfMemoryError can corrupt data.
    options.add("-XX:+ExitOnOutOfMemoryError");
    options.add("-javaagent:" + jamm);
    options.add("-Dcassandra.config=" + yaml.toUri());
    // Without it the daemon closes its standard output and error once started, and cassandra.log
    // ends there.
    options.add("-Dcassandra-foreground=yes");
    // A single node has no gossip to wait for: these two take about 30 s off every start.
    options.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
    options.add("-Dcassandra.ring_delay_ms=100");
    if (passwordAuthentication) {
      // The default superuser is otherwise created 10 s after startup.
      options.add("-Dcassandra.superuser_setup_delay_ms=0");
    }
    options.add("-Dcassandra.storagedir=" + dataDirectory);
    options.add("-Dcassandra.logdir=" + dataDirectory);
    options.add("-Dlogback.configurationFile=" + logback.toUri());
    // No -Dcassandra.jmx.local.port: JMX stays off, so the server opens no third port (and nodetool
    // cannot
    // connect to it).
    options.add("-cp");
    options.add(String.join(File.pathSeparator, classpath));
    return options;
  }

  private long initialHeapMegabytes() {
    long maximum = megabytes(heap);
    return Math.min(maximum, Math.max(128, maximum / 4));
  }

  private static long megabytes(String heap) {
    long amount = Long.parseLong(heap.substring(0, heap.length() - 1));
    return Character.toLowerCase(heap.charAt(heap.length() - 1)) == 'g' ? amount * 1024 : amount;
  }

  private static String quoteForArgumentFile(String argument) {
    return '"' + argument.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private Process launch(Path log) {
    ProcessBuilder builder =
        new ProcessBuilder(
            javaHome.resolve("bin").resolve("java").toString(),
            "@" + dataDirectory.resolve("jvm.options"),
            MAIN_CLASS);
    builder.directory(dataDirectory.toFile());
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    builder.redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
    Map<String, String> environment = builder.environment();
    // The java launcher of JDK 17 would read these too, and the options meant for this JVM (e.g.
    // JDK 25's
    // --sun-misc-unsafe-memory-access) make it refuse to start.
    environment.remove("JDK_JAVA_OPTIONS");
    environment.remove("JAVA_TOOL_OPTIONS");
    environment.remove("_JAVA_OPTIONS");
    environment.remove("CLASSPATH");
    environment.put("JAVA_HOME", javaHome.toString());
    try {
      return builder.start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot start " + javaHome.resolve("bin/java") + " for Cassandra: " + e.getMessage(), e);
    }
  }

  private static File nullDevice() {
    return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  private String awaitCql(Process started, long startNanos, Path log) {
    long deadline = startNanos + startupTimeout.toNanos();
    RuntimeException lastFailure = null;
    while (true) {
      if (!started.isAlive()) {
        throw startupFailure(
            "Cassandra exited with code " + started.exitValue() + " before accepting CQL sessions",
            log,
            null);
      }
      if (System.nanoTime() - deadline > 0) {
        throw startupFailure(
            "Cassandra did not accept a CQL session on "
                + contactPoint()
                + " within "
                + startupTimeout.toSeconds()
                + " s (raise it with Builder.startupTimeout)",
            log,
            lastFailure);
      }
      // The native transport opens last, after the commit log replay and the schema: a plain
      // connect is cheap,
      // and only once it succeeds is a driver session (a second or so of setup) worth trying.
      if (accepts(cqlPort)) {
        try {
          return releaseVersion();
        } catch (RuntimeException e) {
          lastFailure = e;
        }
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(
            "Interrupted while waiting for Cassandra on " + contactPoint(), e);
      }
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String releaseVersion() {
    // The driver's defaults only: the application's application.conf (contact points, keyspace,
    // timeouts)
    // must not change what this probe connects to.
    OptionsMap options = OptionsMap.driverDefaults();
    options.put(TypedDriverOption.CONNECTION_CONNECT_TIMEOUT, Duration.ofSeconds(5));
    options.put(TypedDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10));
    options.put(TypedDriverOption.CONTROL_CONNECTION_TIMEOUT, Duration.ofSeconds(10));
    options.put(TypedDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10));
    options.put(TypedDriverOption.METADATA_SCHEMA_ENABLED, false);
    options.put(TypedDriverOption.METADATA_TOKEN_MAP_ENABLED, false);
    var builder =
        CqlSession.builder()
            .withConfigLoader(DriverConfigLoader.fromMap(options))
            .addContactPoint(new InetSocketAddress(InetAddress.getLoopbackAddress(), cqlPort))
            .withLocalDatacenter(LOCAL_DATACENTER);
    if (passwordAuthentication) {
      // Refused until the default superuser exists: the readiness loop tries again.
      builder.withAuthCredentials(DEFAULT_SUPERUSER, DEFAULT_SUPERUSER);
    }
    try (CqlSession session = builder.build()) {
      Row row = session.execute("SELECT release_version FROM system.local").one();
      return row == null ? "(unknown version)" : row.getString("release_version");
    }
  }

  private IllegalStateException startupFailure(String reason, Path log, Throwable cause) {
    StringBuilder message = new StringBuilder(reason).append(". ");
    if (cause != null) {
      message.append("Last CQL error: ").append(cause).append(". ");
    }
    message.append("Last lines of ").append(log).append(":\n").append(String.join("\n", tail(log)));
    return new IllegalStateException(message.toString(), cause);
  }

  private static List<String> tail(Path log) {
    Deque<String> lines = new ArrayDeque<>(LOG_TAIL_LINES);
    try (Stream<String> all = Files.lines(log, StandardCharsets.UTF_8)) {
      all.forEach(
          line -> {
            if (lines.size() == LOG_TAIL_LINES) {
              lines.removeFirst();
            }
            lines.addLast(line);
          });
    } catch (IOException | UncheckedIOException e) {
      return List.of("(cannot read the log: " + e.getMessage() + ")");
    }
    return lines.isEmpty() ? List.of("(the log is empty)") : List.copyOf(lines);
  }

  private static void terminate(Process running) {
    if (!running.isAlive()) {
      return;
    }
    running.destroy();
    try {
      if (!running.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        running.destroyForcibly();
        running.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      running.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Finding a JDK 17

  static Path resolveJavaHome(
      Path explicit, String property, String environment, List<Path> searchRoots) {
    if (explicit != null) {
      return requireJdk17(explicit, "Builder.javaHome");
    }
    if (property != null && !property.isBlank()) {
      return requireJdk17(Path.of(property.strip()), "the system property " + JAVA_HOME_PROPERTY);
    }
    if (environment != null && !environment.isBlank()) {
      return requireJdk17(
          Path.of(environment.strip()), "the environment variable " + JAVA_HOME_ENV);
    }
    for (Path root : searchRoots) {
      Optional<Path> found = findJdk17Under(root);
      if (found.isPresent()) {
        return found.get();
      }
    }
    throw new IllegalStateException(
        "Cassandra 5.0 needs a JDK 17 (it does not run on the JDK 21+ that Netherite uses), and none was found:"
            + " neither the system property "
            + JAVA_HOME_PROPERTY
            + " nor the environment variable "
            + JAVA_HOME_ENV
            + " is set, and no directory under "
            + searchRoots
            + " has a 'release' file saying JAVA_VERSION=\"17...\". Install a JDK 17 (e.g. `apt-get install"
            + " openjdk-17-jdk-headless`, or Temurin 17 from adoptium.net) and, unless it lands under /usr/lib/jvm,"
            + " point at its home with -D"
            + JAVA_HOME_PROPERTY
            + "=/path/to/jdk-17 or "
            + JAVA_HOME_ENV
            + "=/path/to/jdk-17.");
  }

  private static Optional<Path> findJdk17Under(Path root) {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> candidates = Files.list(root)) {
      return candidates
          .sorted()
          .flatMap(candidate -> Stream.of(candidate, candidate.resolve("Contents/Home")))
          .filter(candidate -> jdk17Problem(candidate) == null)
          .findFirst()
          .map(EmbeddedCassandra::realPath);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Path requireJdk17(Path home, String source) {
    String problem = jdk17Problem(home);
    if (problem != null) {
      throw new IllegalStateException(
          "Cassandra 5.0 needs a JDK 17, but "
              + home
              + " (from "
              + source
              + ") is not one: "
              + problem
              + ". Point "
              + source
              + " at the home directory of a JDK 17 (the directory holding bin/java and a 'release' file saying"
              + " JAVA_VERSION=\"17...\", e.g. /usr/lib/jvm/java-17-openjdk-amd64), or install one with `apt-get"
              + " install openjdk-17-jdk-headless`.");
    }
    return realPath(home);
  }

  // Returns why the directory is not a usable JDK 17, or null if it is one.
  private static String jdk17Problem(Path home) {
    if (!Files.isDirectory(home)) {
      return "the directory does not exist";
    }
    Path release = home.resolve("release");
    if (!Files.isRegularFile(release)) {
      return "it has no 'release' file, so it is not a JDK home";
    }
    String version;
    try (Stream<String> lines = Files.lines(release, StandardCharsets.ISO_8859_1)) {
      version =
          lines
              .filter(line -> line.startsWith("JAVA_VERSION="))
              .map(line -> line.substring("JAVA_VERSION=".length()).replace("\"", "").strip())
              .findFirst()
              .orElse(null);
    } catch (IOException | UncheckedIOException e) {
      return "its 'release' file cannot be read (" + e.getMessage() + ")";
    }
    if (version == null) {
      return "its 'release' file has no JAVA_VERSION line";
    }
    if (!version.equals("17") && !version.startsWith("17.")) {
      return "its 'release' file says JAVA_VERSION=\"" + version + "\"";
    }
    if (!Files.isExecutable(home.resolve("bin").resolve("java"))) {
      return "it has no executable bin/java";
    }
    return null;
  }

  private static Path realPath(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path.toAbsolutePath().normalize();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Command line

  /**
   * Runs a server in the foreground, for scripts:
   *
   * <pre>
   * start [--data-dir D] [--port P] [--storage-port S] [--commitlog-sync periodic|group|batch]
   *       [--heap 768m] [--java-home JDK17] [--clean] [--password-authentication] [--startup-timeout-seconds 90]
   * </pre>
   *
   * <p>Defaults are those of {@link Builder}. Prints {@value #READY_LINE} {@code 127.0.0.1:<port>}
   * on standard output once the server accepts CQL sessions, then runs until this JVM is stopped
   * (SIGTERM or SIGINT stop the server first) or the server exits on its own (exit code 1). Exits
   * with 2 on a usage error and 1 if the server cannot start.
   */
  public static void main(String[] args) {
    Builder builder = builder();
    if (args.length == 0 || !args[0].equals("start")) {
      usage("the first argument must be 'start'");
      return;
    }
    try {
      for (int i = 1; i < args.length; i++) {
        String option = args[i];
        if (option.equals("--clean")) {
          builder.clean(true);
          continue;
        }
        if (option.equals(PASSWORD_AUTH_OPTION)) {
          builder.passwordAuthentication(true);
          continue;
        }
        if (!MAIN_OPTIONS_WITH_VALUE.contains(option)) {
          usage("unknown option " + option);
          return;
        }
        if (i + 1 >= args.length) {
          usage(option + " needs a value");
          return;
        }
        String value = args[++i];
        switch (option) {
          case "--data-dir" -> builder.dataDirectory(Path.of(value));
          case "--port" -> builder.cqlPort(Integer.parseInt(value));
          case "--storage-port" -> builder.storagePort(Integer.parseInt(value));
          case "--commitlog-sync" -> builder.commitlogSync(CommitlogSync.parse(value));
          case "--heap" -> builder.heap(value);
          case "--java-home" -> builder.javaHome(Path.of(value));
          case "--startup-timeout-seconds" ->
              builder.startupTimeout(Duration.ofSeconds(Long.parseLong(value)));
          default -> throw new AssertionError(option);
        }
      }
    } catch (IllegalArgumentException e) {
      usage(e.getMessage());
      return;
    }

    EmbeddedCassandra cassandra;
    try {
      cassandra = builder.build().start();
    } catch (RuntimeException e) {
      System.err.println("EmbeddedCassandra: " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.println(READY_LINE + " " + cassandra.contactPoint());
    System.out.flush();

    Process running = cassandra.process;
    int exitCode;
    try {
      exitCode = running.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    // When the JVM is shutting down, the shutdown hook stopped the server; System.exit would block
    // forever then.
    if (!shuttingDown()) {
      System.err.printf(
          "EmbeddedCassandra: Cassandra exited on its own with code %d; see %s%n",
          exitCode, cassandra.logFile());
      System.exit(1);
    }
  }

  private static boolean shuttingDown() {
    try {
      Thread probe = new Thread(() -> {});
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }

  private static void usage(String problem) {
    System.err.println("EmbeddedCassandra: " + problem);
    System.err.println(
        "usage: start [--data-dir D] [--port P] [--storage-port S] [--commitlog-sync periodic|group|batch]"
            + " [--heap 768m] [--java-home JDK17] [--clean] [--password-authentication] [--startup-timeout-seconds 90]");
    System.exit(2);
  }

  @Override
  public String toString() {
    return "EmbeddedCassandra["
        + contactPoint()
        + ", "
        + commitlogSync.name().toLowerCase(Locale.ROOT)
        + ", "
        + dataDirectory
        + "]";
  }
}
