package dev.netherite.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One forked node JVM ({@code NodeMain}): its console on standard input, its output (standard
 * output and error) copied to a log file and kept in memory for {@link #await}.
 */
final class NodeProcess {
  final String name;
  final int port;
  final Path log;
  private final Process process;
  private final PrintWriter console;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;

  NodeProcess(String name, int port, List<String> command, Path log) throws IOException {
    this.name = name;
    this.port = port;
    this.log = log;
    Files.createDirectories(log.getParent());
    this.process = new ProcessBuilder(command).redirectErrorStream(true).start();
    this.console = new PrintWriter(process.outputWriter(StandardCharsets.UTF_8), true);
    this.reader = Thread.ofPlatform().daemon().name("output-" + name).start(this::copyOutput);
  }

  private void copyOutput() {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer out = Files.newBufferedWriter(log)) {
      String line;
      while ((line = in.readLine()) != null) {
        out.write(line);
        out.write('\n');
        out.flush();
        synchronized (lines) {
          lines.add(line);
          lines.notifyAll();
        }
      }
    } catch (IOException e) {
      // The process died; what it wrote is in the log.
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  void send(String command) {
    console.println(command);
  }

  /**
   * The number of lines so far; {@link #await} from here waits for a line written after this call.
   */
  int mark() {
    synchronized (lines) {
      return lines.size();
    }
  }

  List<String> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /**
   * Waits for the first line at or after {@code from} that matches {@code regex} (found anywhere in
   * the line).
   */
  Matcher await(int from, String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      for (int i = from; ; ) {
        for (; i < lines.size(); i++) {
          Matcher m = pattern.matcher(lines.get(i));
          if (m.find()) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        boolean outputEnded = !process.isAlive() && !reader.isAlive();
        if (left <= 0 || outputEnded) {
          throw new AssertionError(
              name
                  + ": no line matching /"
                  + regex
                  + "/ within "
                  + timeout
                  + "; see "
                  + log
                  + (process.isAlive()
                      ? ""
                      : " (the node has exited with " + process.exitValue() + ")"));
        }
        try {
          lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, 500_000_000L))));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted while waiting for /" + regex + "/ from " + name);
        }
      }
    }
  }

  Matcher await(String regex, Duration timeout) {
    return await(0, regex, timeout);
  }

  /**
   * Sends a command and waits for its answer, the first matching line written after it was sent.
   */
  Matcher ask(String command, String answerRegex, Duration timeout) {
    int from = mark();
    send(command);
    return await(from, answerRegex, timeout);
  }

  // Signals go through the ProcessHandle: Process.destroy() would also close the pipes, losing what
  // the node
  // writes while it shuts down (and making its writes fail).

  /** kill -9: no shutdown hook, no hand-over. */
  void kill() {
    process.toHandle().destroyForcibly();
    waitForExit(Duration.ofSeconds(30));
  }

  /** Sends a signal by name (STOP, CONT) with kill(1). */
  void signal(String name) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new AssertionError("kill -" + name + " " + pid() + " failed");
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted");
    }
  }

  /** SIGTERM: the node's coordinated shutdown hands its partitions over and leaves the cluster. */
  void terminate() {
    process.toHandle().destroy();
  }

  boolean waitForExit(Duration timeout) {
    try {
      boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (exited) {
        reader.join(5000);
      }
      return exited;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String toString() {
    return name;
  }

  /** Ends the process whatever its state: for cleanup on every exit path. */
  void destroy() {
    if (process.isAlive()) {
      process.destroyForcibly();
      waitForExit(Duration.ofSeconds(30));
    }
  }
}
