package dev.netherite.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.orchestration.OrchestrationExecutor;
import dev.netherite.engine.partition.PartitionState;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/STYLE.md, rule 13: determinism is checked, not only documented. Reads the constant pools of
 * the compiled classes of the replay core and fails on any reference to a clock, a random source,
 * threads or blocking I/O. The partition state machine may use none of them; the orchestration
 * package runs code on threads by design, so there only clocks, randomness and I/O are forbidden
 * (time and ids come from the history).
 */
class DeterminismTest {

  private static final List<String> CLOCKS =
      List.of(
          "java/time/Clock",
          "java/time/InstantSource",
          "java/lang/System.currentTimeMillis",
          "java/lang/System.nanoTime",
          "java/time/Instant.now",
          "java/time/LocalDateTime.now",
          "java/time/LocalDate.now",
          "java/time/LocalTime.now",
          "java/time/ZonedDateTime.now",
          "java/time/OffsetDateTime.now",
          "java/util/Date.<init>",
          "java/lang/System.getenv",
          "java/lang/System.getProperty");
  private static final List<String> RANDOMNESS =
      List.of(
          "java/util/Random",
          "java/security/SecureRandom",
          "java/util/concurrent/ThreadLocalRandom",
          "java/util/SplittableRandom",
          "java/util/UUID.randomUUID",
          "java/lang/Math.random",
          "java/lang/StrictMath.random");
  private static final List<String> THREADS =
      List.of(
          "java/lang/Thread",
          "java/util/concurrent/Executor",
          "java/util/concurrent/ExecutorService",
          "java/util/concurrent/Executors",
          "java/util/concurrent/CompletableFuture",
          "java/util/concurrent/locks/",
          "java/util/Timer",
          "java/lang/Object.wait",
          "java/lang/Object.notify");
  private static final List<String> BLOCKING_IO =
      List.of(
          "java/io/File",
          "java/io/RandomAccessFile",
          "java/nio/file/",
          "java/nio/channels/",
          "java/net/");

  @Test
  void partitionStateMachineUsesNoClockRandomnessThreadsOrIo() throws IOException {
    List<String> forbidden = new ArrayList<>();
    forbidden.addAll(CLOCKS);
    forbidden.addAll(RANDOMNESS);
    forbidden.addAll(THREADS);
    forbidden.addAll(BLOCKING_IO);
    List<Path> classes = classesOf(PartitionState.class);
    assertTrue(classes.size() >= 10, "expected the partition package's classes, found " + classes);
    assertEquals(List.of(), violations(classes, forbidden));
  }

  @Test
  void replayExecutorUsesNoClockRandomnessOrIo() throws IOException {
    List<String> forbidden = new ArrayList<>();
    forbidden.addAll(CLOCKS);
    forbidden.addAll(RANDOMNESS);
    forbidden.addAll(BLOCKING_IO);
    List<Path> classes = classesOf(OrchestrationExecutor.class);
    assertTrue(
        classes.size() >= 4, "expected the orchestration package's classes, found " + classes);
    assertEquals(List.of(), violations(classes, forbidden));
  }

  @Test
  void placementUsesNoClockRandomnessThreadsOrIo() throws IOException {
    List<String> forbidden = new ArrayList<>();
    forbidden.addAll(CLOCKS);
    forbidden.addAll(RANDOMNESS);
    forbidden.addAll(THREADS);
    forbidden.addAll(BLOCKING_IO);
    Path placement =
        classesOf(PartitionPlacement.class).stream()
            .filter(p -> p.getFileName().toString().equals("PartitionPlacement.class"))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of(), violations(List.of(placement), forbidden));
  }

  @Test
  void theScannerSeesReferences() throws IOException {
    // A control: the orchestration package does use threads (its runs park on them), and this test
    // reads files.
    Set<String> executor = new TreeSet<>();
    for (Path p : classesOf(OrchestrationExecutor.class)) {
      executor.addAll(references(p));
    }
    assertTrue(
        executor.contains("java/lang/Thread"), "the scanner missed java/lang/Thread: " + executor);
    Set<String> own = references(classFile(DeterminismTest.class));
    assertTrue(own.contains("java/nio/file/Files.walk"), own.toString());
    assertFalse(violations(List.of(classFile(DeterminismTest.class)), BLOCKING_IO).isEmpty());
  }

  // ---------------------------------------------------------------- reading class files

  private static List<String> violations(List<Path> classes, List<String> forbidden)
      throws IOException {
    List<String> found = new ArrayList<>();
    for (Path c : classes) {
      for (String ref : references(c)) {
        for (String f : forbidden) {
          if (ref.equals(f)
              || ref.startsWith(f + ".")
              || ref.startsWith(f + "$")
              || (f.endsWith("/") && ref.startsWith(f))) {
            found.add(c.getFileName() + " uses " + ref);
          }
        }
      }
    }
    return found;
  }

  /**
   * The classes of {@code anchor}'s package and of its subpackages, so that a part split out of the
   * state machine into a package of its own stays checked.
   */
  private static List<Path> classesOf(Class<?> anchor) throws IOException {
    Path dir = classFile(anchor).getParent();
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.toString().endsWith(".class")).sorted().toList();
    }
  }

  private static Path classFile(Class<?> type) {
    try {
      Path root = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
      return root.resolve(type.getName().replace('.', '/') + ".class");
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The classes a class file refers to ({@code java/util/Random}), the members it calls or reads
   * ({@code java/lang/System.nanoTime}), and every class named in its descriptors.
   */
  static Set<String> references(Path classFile) throws IOException {
    try (InputStream in = Files.newInputStream(classFile)) {
      DataInputStream data = new DataInputStream(in);
      if (data.readInt() != 0xCAFEBABE) {
        throw new IOException("not a class file: " + classFile);
      }
      data.readUnsignedShort();
      data.readUnsignedShort();
      int count = data.readUnsignedShort();
      String[] utf8 = new String[count];
      int[] classNames = new int[count];
      int[][] memberRefs = new int[count][];
      int[][] nameAndTypes = new int[count][];
      for (int k = 1; k < count; k++) {
        int tag = data.readUnsignedByte();
        switch (tag) {
          case 1 -> utf8[k] = data.readUTF();
          case 3, 4 -> data.readInt();
          case 5, 6 -> {
            data.readLong();
            k++;
          }
          case 7 -> classNames[k] = data.readUnsignedShort();
          case 8, 16, 19, 20 -> data.readUnsignedShort();
          case 9, 10, 11 ->
              memberRefs[k] = new int[] {data.readUnsignedShort(), data.readUnsignedShort()};
          case 12 ->
              nameAndTypes[k] = new int[] {data.readUnsignedShort(), data.readUnsignedShort()};
          case 15 -> {
            data.readUnsignedByte();
            data.readUnsignedShort();
          }
          case 17, 18 -> {
            data.readUnsignedShort();
            data.readUnsignedShort();
          }
          default -> throw new IOException("unknown constant pool tag " + tag + " in " + classFile);
        }
      }
      Set<String> refs = new TreeSet<>();
      for (int k = 1; k < count; k++) {
        if (classNames[k] != 0) {
          refs.add(utf8[classNames[k]]);
        }
        if (memberRefs[k] != null) {
          String owner = utf8[classNames[memberRefs[k][0]]];
          String name = utf8[nameAndTypes[memberRefs[k][1]][0]];
          refs.add(owner + "." + name);
        }
        if (utf8[k] != null) {
          // Descriptors and signatures: every "Lsome/Class;" in them.
          String s = utf8[k];
          for (int at = s.indexOf('L'); at >= 0; at = s.indexOf('L', at + 1)) {
            int end = s.indexOf(';', at);
            if (end > at
                && s.substring(at + 1, end).matches("[\\w/$]+")
                && s.substring(at + 1, end).contains("/")) {
              refs.add(s.substring(at + 1, end));
            }
          }
        }
      }
      return refs;
    }
  }
}
