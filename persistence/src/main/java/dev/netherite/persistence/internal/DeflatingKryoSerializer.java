package dev.netherite.persistence.internal;

import java.io.ByteArrayOutputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.apache.pekko.actor.ExtendedActorSystem;

/**
 * INTERNAL API
 *
 * <p>The serializer of partition checkpoints (bound to {@code PartitionState} in this module's
 * {@code reference.conf}): the Kryo bytes of {@link KryoSerializer}, deflated. A checkpoint is one
 * row of the snapshot store, and Cassandra refuses a request larger than its native-transport limit
 * (16 MiB by default): the histories and payloads a partition holds are text that deflates several
 * times over, so a partition can hold that many times more before it reaches the limit. Its own
 * identifier lets checkpoints written before it still be read, by {@link KryoSerializer}.
 */
public final class DeflatingKryoSerializer extends KryoSerializer {
  /**
   * Pekko's id of this serializer, in the snapshot store next to every checkpoint: never change it.
   */
  public static final int IDENTIFIER = 7467;

  public DeflatingKryoSerializer(ExtendedActorSystem system) {
    super(system);
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public byte[] toBinary(Object o) {
    byte[] deflated = deflate(encode(o));
    countStored(o, deflated.length);
    return deflated;
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    return super.fromBinaryJava(inflate(bytes), manifest);
  }

  static byte[] deflate(byte[] plain) {
    Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    try {
      deflater.setInput(plain);
      deflater.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, plain.length / 4));
      byte[] chunk = new byte[64 * 1024];
      while (!deflater.finished()) {
        out.write(chunk, 0, deflater.deflate(chunk));
      }
      return out.toByteArray();
    } finally {
      deflater.end();
    }
  }

  static byte[] inflate(byte[] deflated) {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(deflated);
      ByteArrayOutputStream out = new ByteArrayOutputStream(deflated.length * 4);
      byte[] chunk = new byte[64 * 1024];
      while (!inflater.finished()) {
        int n = inflater.inflate(chunk);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new IllegalArgumentException(
              "A checkpoint ends early: " + deflated.length + " deflated bytes are cut off.");
        }
        out.write(chunk, 0, n);
      }
      return out.toByteArray();
    } catch (DataFormatException e) {
      throw new IllegalArgumentException("A checkpoint is not deflated data: " + e.getMessage(), e);
    } finally {
      inflater.end();
    }
  }
}
