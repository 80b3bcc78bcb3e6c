package dev.netherite.engine;

/**
 * INTERNAL API
 *
 * <p>Marker for every type that crosses the wire between nodes or goes to the journal and snapshot
 * store. Pekko binds it to the Kryo serializer of {@code persistence/}, where each such class has a
 * fixed registration id: a class that implements this interface but is not registered there fails
 * the serialization test.
 */
public interface WireSerializable {}
