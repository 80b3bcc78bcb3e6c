package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import com.typesafe.config.Config;
import java.util.function.Consumer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.JSerializer;

/**
 * INTERNAL API
 *
 * <p>The Pekko serializer of everything that implements {@code
 * dev.netherite.engine.WireSerializable} (bound in this module's {@code reference.conf}): Kryo with
 * the explicit, fixed registration ids of {@link WireRegistry}. The class id is part of the bytes,
 * so no manifest is written.
 *
 * <p>Kryo instances are not thread-safe; each call borrows one, with its own output buffer, from a
 * pool.
 */
public class KryoSerializer extends JSerializer {
  /** Pekko's id of this serializer, in the journal next to every event: never change it. */
  public static final int IDENTIFIER = 7466;

  private static final byte[] NO_BYTES = new byte[0];

  private final Pool<Codec> pool;

  public KryoSerializer(ExtendedActorSystem system) {
    this(system, kryo -> {});
  }

  /**
   * With registrations beyond {@link WireRegistry}'s: for tests only, through a subclass with its
   * own identifier.
   */
  KryoSerializer(ExtendedActorSystem system, Consumer<Kryo> extraRegistrations) {
    // Inconsistent registrations (overlapping ranges, an id twice) fail the start, not a write.
    WireRegistry.check(system);
    Config config = system.settings().config().getConfig("netherite.persistence.kryo");
    int bufferSize = Math.toIntExact(config.getBytes("buffer-size"));
    int maxRetainedBufferSize = Math.toIntExact(config.getBytes("max-retained-buffer-size"));
    int poolCapacity = config.getInt("pool-capacity");
    this.pool =
        new Pool<>(true, true, poolCapacity) {
          @Override
          protected Codec create() {
            Kryo kryo = WireRegistry.newKryo(system);
            extraRegistrations.accept(kryo);
            return new Codec(kryo, bufferSize, maxRetainedBufferSize);
          }
        };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    byte[] bytes = encode(o);
    countStored(o, bytes.length);
    return bytes;
  }

  /**
   * Storage traffic is a headline figure: counts what goes to the journal and the snapshot store.
   */
  static void countStored(Object o, int length) {
    if (o instanceof dev.netherite.engine.partition.EventBatch) {
      dev.netherite.persistence.StorageMetrics.global().recordJournalBytes(length);
    } else if (o instanceof dev.netherite.engine.partition.PartitionState
        || o instanceof dev.netherite.engine.partition.PartitionCheckpoint) {
      dev.netherite.persistence.StorageMetrics.global().recordSnapshotBytes(length);
    }
  }

  /** The Kryo bytes of {@code o}: its class id, then its fields. */
  final byte[] encode(Object o) {
    Codec codec = pool.obtain();
    try {
      codec.output.reset();
      codec.kryo.writeClassAndObject(codec.output, o);
      return codec.output.toBytes();
    } catch (KryoException | IllegalArgumentException | IllegalStateException e) {
      throw new IllegalArgumentException(
          "Cannot serialize a "
              + (o == null ? "null" : o.getClass().getName())
              + " with Kryo. Every class it contains must be registered with a fixed id by the"
              + " WireRegistrar of its module (see "
              + WireRegistry.class.getName()
              + "). Cause: "
              + e.getMessage(),
          e);
    } finally {
      codec.release();
      pool.free(codec);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Codec codec = pool.obtain();
    try {
      codec.input.setBuffer(bytes);
      return codec.kryo.readClassAndObject(codec.input);
    } catch (KryoException | IllegalArgumentException | IllegalStateException e) {
      throw new IllegalArgumentException(
          "Kryo cannot read a value: bytes=" + bytes.length + " cause=" + e.getMessage(), e);
    } finally {
      codec.input.setBuffer(NO_BYTES);
      pool.free(codec);
    }
  }

  /** One pooled Kryo with its buffers. */
  private static final class Codec {
    final Kryo kryo;
    final Output output;
    final Input input = new Input();
    private final int bufferSize;
    private final int maxRetainedBufferSize;

    Codec(Kryo kryo, int bufferSize, int maxRetainedBufferSize) {
      this.kryo = kryo;
      this.bufferSize = bufferSize;
      this.maxRetainedBufferSize = maxRetainedBufferSize;
      this.output = new Output(bufferSize, -1);
    }

    /** Drops a buffer that grew for one large value, so that the pool does not keep it. */
    void release() {
      if (output.getBuffer().length > maxRetainedBufferSize) {
        output.setBuffer(new byte[bufferSize], -1);
      }
    }
  }
}
