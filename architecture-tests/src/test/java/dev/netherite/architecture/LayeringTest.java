package dev.netherite.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.management.NetheriteManagement;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.samples.Samples;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering of the modules' main code (docs/STYLE.md, rules 1 and 2): {@code dsl} uses nothing
 * but the JDK, {@code engine} nothing of Pekko, Kryo or Cassandra, and no module names another
 * module's {@code internal} classes in a string (a class name in a string escapes the compiler and
 * the module graph, so one module could come to rely on another's internals unseen). Test code is
 * not checked.
 */
class LayeringTest {

  /** Each module with main code: its directory, its root package, and one of its classes. */
  private record Module(String directory, String rootPackage, Class<?> anchor) {}

  private static final List<Module> MODULES =
      List.of(
          new Module("dsl", "dev.netherite.dsl", Workflows.class),
          new Module("engine", "dev.netherite.engine", PartitionPlacement.class),
          new Module("persistence", "dev.netherite.persistence", StorageMetrics.class),
          new Module("sharding", "dev.netherite.runtime", DurableRuntime.class),
          new Module("cassandra-launcher", "dev.netherite.cassandra", EmbeddedCassandra.class),
          new Module("management", "dev.netherite.management", NetheriteManagement.class),
          new Module("samples", "dev.netherite.samples", Samples.class));

  private static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.netherite");

  /** A class name of the project in a string: {@code dev.netherite.<x>...} or with slashes. */
  private static final Pattern INTERNAL_NAME =
      Pattern.compile("dev[./]netherite[./]([a-z]+)[./](?:[a-z]+[./])*internal\\b");

  @Test
  void dslUsesNothingButTheJdk() {
    classes()
        .that()
        .resideInAPackage("dev.netherite.dsl..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage("java..", "dev.netherite.dsl..")
        .because("the programming API is JDK only (docs/STYLE.md, rule 2)")
        .check(MAIN);
  }

  @Test
  void engineUsesNoPekkoKryoOrCassandra() {
    noClasses()
        .that()
        .resideInAPackage("dev.netherite.engine..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.apache.pekko..",
            "com.esotericsoftware..",
            "com.datastax..",
            "org.apache.cassandra..")
        .because("the engine is pure Java, hosted by the runtime and by the simulation alike")
        .check(MAIN);
    classes()
        .that()
        .resideInAPackage("dev.netherite.engine..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage("java..", "dev.netherite.dsl..", "dev.netherite.engine..")
        .because("the engine sees only the JDK and the dsl below it")
        .check(MAIN);
  }

  @Test
  void noModuleNamesAnotherModulesInternalClassesInAString() {
    List<String> violations = new ArrayList<>();
    for (Module module : MODULES) {
      Map<String, Set<String>> strings = stringsOf(module);
      strings.forEach(
          (file, constants) -> {
            for (String constant : constants) {
              Optional<String> other = otherModuleNamed(module, constant);
              other.ifPresent(
                  o ->
                      violations.add(
                          module.directory()
                              + ": "
                              + file
                              + " names "
                              + o
                              + "'s internal class in \""
                              + constant
                              + "\""));
            }
          });
    }
    assertEquals(
        List.of(),
        violations,
        "Main code that names another module's internal classes as strings: use the class (if the"
            + " module depends on it) or let the other module register its own (e.g. a"
            + " ServiceLoader provider)");
  }

  /** Each module's location holds its own root package and nothing else of the project. */
  @Test
  void eachModuleHoldsItsOwnPackage() {
    for (Module module : MODULES) {
      JavaClasses own = new ClassFileImporter().importUrl(location(module.anchor()));
      assertTrue(own.size() > 0, module.directory());
      for (JavaClass type : own) {
        assertTrue(
            type.getPackageName().equals(module.rootPackage())
                || type.getPackageName().startsWith(module.rootPackage() + "."),
            () -> module.directory() + " holds " + type.getName());
      }
    }
    for (JavaClass type : MAIN) {
      assertTrue(
          MODULES.stream().anyMatch(m -> type.getPackageName().startsWith(m.rootPackage())),
          () -> type.getName() + " is in no module of this test's list: add its module");
    }
  }

  /** A control: the scan finds a name in a string constant and tells the modules apart. */
  @Test
  void theStringScanSeesConstants() throws IOException {
    Set<String> own = new TreeSet<>();
    try (InputStream in = classFile(Planted.class)) {
      own.addAll(stringConstants(in));
    }
    assertTrue(own.contains(Planted.NAME), own.toString());
    Module persistence = MODULES.get(2);
    Module sharding = MODULES.get(3);
    assertEquals(Optional.of("sharding"), otherModuleNamed(persistence, Planted.NAME));
    assertEquals(Optional.empty(), otherModuleNamed(sharding, Planted.NAME));
    assertEquals(
        Optional.of("engine"),
        otherModuleNamed(sharding, "dev/netherite/engine/partition/internal/Thing"));
    assertEquals(Optional.empty(), otherModuleNamed(sharding, "dev.netherite.engine.partition.X"));
    Map<String, Set<String>> persistenceStrings = stringsOf(persistence);
    assertFalse(persistenceStrings.isEmpty());
    assertTrue(
        persistenceStrings.keySet().stream().anyMatch(f -> f.endsWith("reference.conf")),
        "the scan reads resources too: " + persistenceStrings.keySet());
  }

  private static final class Planted {
    static final String NAME = "dev.netherite.runtime.internal.PartitionCommand$Ack";
  }

  private static Optional<String> otherModuleNamed(Module own, String constant) {
    Matcher m = INTERNAL_NAME.matcher(constant);
    while (m.find()) {
      String root = "dev.netherite." + m.group(1);
      Optional<Module> named =
          MODULES.stream().filter(x -> x.rootPackage().equals(root)).findFirst();
      if (named.isPresent() && named.get() != own) {
        return Optional.of(named.get().directory());
      }
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- reading the modules

  /** The string constants of every class file, and the text of every resource, per file. */
  private static Map<String, Set<String>> stringsOf(Module module) {
    Map<String, Set<String>> found = new LinkedHashMap<>();
    Path root = Path.of(toUri(location(module.anchor())));
    try {
      if (Files.isDirectory(root)) {
        try (Stream<Path> files = Files.walk(root)) {
          for (Path file : files.filter(Files::isRegularFile).toList()) {
            try (InputStream in = Files.newInputStream(file)) {
              read(root.relativize(file).toString(), in, found);
            }
          }
        }
      } else {
        try (JarFile jar = new JarFile(root.toFile())) {
          for (JarEntry entry : jar.stream().filter(e -> !e.isDirectory()).toList()) {
            try (InputStream in = jar.getInputStream(entry)) {
              read(entry.getName(), in, found);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  private static void read(String name, InputStream in, Map<String, Set<String>> found)
      throws IOException {
    if (name.endsWith(".class")) {
      found.put(name, stringConstants(in));
    } else if (!name.endsWith("MANIFEST.MF") && !name.contains("maven/")) {
      found.put(name, Set.of(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
    }
  }

  /**
   * The {@code CONSTANT_String} entries of a class file's constant pool, less those that only
   * repeat a compile-time reference: a method descriptor, or the name of a class the same file
   * references as a class (javac writes both into {@code $deserializeLambda$} for serializable
   * lambdas, such as Pekko's {@code japi.function.Function}).
   */
  static Set<String> stringConstants(InputStream classFile) throws IOException {
    DataInputStream data = new DataInputStream(classFile);
    if (data.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    data.readUnsignedShort();
    data.readUnsignedShort();
    int count = data.readUnsignedShort();
    String[] utf8 = new String[count];
    List<Integer> strings = new ArrayList<>();
    List<Integer> classes = new ArrayList<>();
    for (int k = 1; k < count; k++) {
      int tag = data.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[k] = data.readUTF();
        case 3, 4 -> data.readInt();
        case 5, 6 -> {
          data.readLong();
          k++;
        }
        case 8 -> strings.add(data.readUnsignedShort());
        case 7 -> classes.add(data.readUnsignedShort());
        case 16, 19, 20 -> data.readUnsignedShort();
        case 9, 10, 11, 12, 17, 18 -> data.readInt();
        case 15 -> {
          data.readUnsignedByte();
          data.readUnsignedShort();
        }
        default -> throw new IOException("unknown constant pool tag " + tag);
      }
    }
    Set<String> referenced = new TreeSet<>();
    for (int index : classes) {
      referenced.add(utf8[index]);
    }
    Set<String> out = new TreeSet<>();
    for (int index : strings) {
      String constant = utf8[index];
      if (!constant.startsWith("(") && !referenced.contains(constant)) {
        out.add(constant);
      }
    }
    return out;
  }

  private static InputStream classFile(Class<?> type) {
    return type.getClassLoader().getResourceAsStream(type.getName().replace('.', '/') + ".class");
  }

  private static URL location(Class<?> anchor) {
    return anchor.getProtectionDomain().getCodeSource().getLocation();
  }

  private static java.net.URI toUri(URL url) {
    try {
      return url.toURI();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
