package dev.netherite.engine;

import java.nio.charset.StandardCharsets;

/**
 * INTERNAL API
 *
 * <p>Maps instance and entity ids to partitions: an id ending in {@code !n} (n decimal) goes to
 * partition {@code n mod P}, so that applications can place related work; any other id by FNV-1a
 * (32 bit) of its UTF-8 bytes, mod P. The mapping is part of the storage format: changing it
 * strands every stored instance.
 */
public final class PartitionPlacement {
  public static final int MAX_PARTITIONS = 1024;
  private static final int FNV_OFFSET = 0x811c9dc5;
  private static final int FNV_PRIME = 0x01000193;

  private final int partitionCount;

  public PartitionPlacement(int partitionCount) {
    if (partitionCount < 1 || partitionCount > MAX_PARTITIONS) {
      throw new IllegalArgumentException(
          "The partition count must be between 1 and "
              + MAX_PARTITIONS
              + ", got "
              + partitionCount
              + ".");
    }
    this.partitionCount = partitionCount;
  }

  public int partitionCount() {
    return partitionCount;
  }

  public int partitionOf(String id) {
    int bang = id.lastIndexOf('!');
    if (bang >= 0 && bang < id.length() - 1 && id.length() - bang <= 10) {
      int n = 0;
      boolean digits = true;
      for (int i = bang + 1; i < id.length(); i++) {
        char c = id.charAt(i);
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + (c - '0');
      }
      if (digits) {
        return n % partitionCount;
      }
    }
    return Integer.remainderUnsigned(fnv1a(id), partitionCount);
  }

  static int fnv1a(String id) {
    int hash = FNV_OFFSET;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      hash ^= (b & 0xff);
      hash *= FNV_PRIME;
    }
    return hash;
  }
}
