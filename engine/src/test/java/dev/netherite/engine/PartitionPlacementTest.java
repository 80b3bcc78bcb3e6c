package dev.netherite.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PartitionPlacementTest {

  @ParameterizedTest(name = "fnv1a(\"{0}\") = {1}")
  @CsvSource({
    "'', 811c9dc5",
    "a, e40c292c",
    "foobar, bf9cf968",
    "b, e70c2de5",
    "foo, a9f37ed7",
  })
  void fnv1aMatchesKnownVectors(String input, String expectedHex) {
    assertEquals((int) Long.parseLong(expectedHex, 16), PartitionPlacement.fnv1a(input));
  }

  @Test
  void fnv1aHashesUtf8Bytes() {
    // "é" is two UTF-8 bytes (c3 a9); hashing chars instead of bytes would give another value.
    int expected = 0x811c9dc5;
    for (int b : new int[] {0xc3, 0xa9}) {
      expected ^= b;
      expected *= 0x01000193;
    }
    assertEquals(expected, PartitionPlacement.fnv1a("é"));
  }

  @ParameterizedTest(name = "\"{0}\" with P={1} -> {2}")
  @CsvSource({
    "order!5, 12, 5",
    "order!17, 12, 5",
    "x!0, 12, 0",
    "x!12, 12, 0",
    "x!255, 256, 255",
    "x!256, 256, 0",
    "a!b!3, 12, 3",
    "!7, 12, 7",
    "x!007, 12, 7",
    "x!999999999, 1000, 999",
  })
  void bangSuffixPlacesOnNModP(String id, int partitions, int expected) {
    assertEquals(expected, new PartitionPlacement(partitions).partitionOf(id));
  }

  @ParameterizedTest(name = "\"{0}\" is hashed")
  @CsvSource({"abc!", "abc!12x", "abc!-3", "abc! 3", "x!1234567890", "no-suffix", "child:3"})
  void idsWithoutANumericSuffixAreHashed(String id) {
    PartitionPlacement placement = new PartitionPlacement(12);
    assertEquals(
        Integer.remainderUnsigned(PartitionPlacement.fnv1a(id), 12), placement.partitionOf(id));
  }

  @Test
  void hashPlacementIsUnsignedModulo() {
    // fnv1a("a") = 0xe40c292c is negative as an int: the placement must still be in range, as
    // unsigned mod P.
    PartitionPlacement placement = new PartitionPlacement(12);
    assertEquals((int) (0xe40c292cL % 12), placement.partitionOf("a"));
  }

  @Test
  void spreadsIdsEvenlyOverTwelvePartitions() {
    PartitionPlacement placement = new PartitionPlacement(12);
    int[] counts = new int[12];
    Random random = new Random(42);
    for (int k = 0; k < 12_000; k++) {
      String id =
          k % 2 == 0 ? new UUID(random.nextLong(), random.nextLong()).toString() : "order-" + k;
      int p = placement.partitionOf(id);
      assertEquals(p, placement.partitionOf(id), "placement must be stable");
      counts[p]++;
    }
    for (int p = 0; p < 12; p++) {
      assertTrue(
          counts[p] >= 700 && counts[p] <= 1300,
          "partition "
              + p
              + " got "
              + counts[p]
              + " of 12000 ids: "
              + java.util.Arrays.toString(counts));
    }
  }

  @Test
  void placementIsAFunctionOfIdAndPartitionCountOnly() {
    // Part of the storage format: these values must never change.
    PartitionPlacement twelve = new PartitionPlacement(12);
    assertEquals(Integer.remainderUnsigned(0xbf9cf968, 12), twelve.partitionOf("foobar"));
    assertEquals(twelve.partitionOf("foobar"), new PartitionPlacement(12).partitionOf("foobar"));
    assertEquals(0, new PartitionPlacement(1).partitionOf("anything"));
  }

  @Test
  void refusesPartitionCountsOutOfRange() {
    assertThrows(IllegalArgumentException.class, () -> new PartitionPlacement(0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PartitionPlacement(PartitionPlacement.MAX_PARTITIONS + 1));
    assertEquals(256, new PartitionPlacement(256).partitionCount());
  }
}
