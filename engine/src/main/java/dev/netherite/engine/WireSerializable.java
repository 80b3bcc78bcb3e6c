package dev.netherite.engine;

/**
 * INTERNAL API
 *
 * <p>Marker for every type that crosses the wire between nodes or goes to the journal and snapshot
 * store. Pekko binds it to the Kryo serializer of {@code persistence/}. Each such class has a fixed
 * registration id, given by the {@link WireRegistrar} of the module that defines it: a class that
 * implements this interface but is not registered fails the serialization tests.
 */
public interface WireSerializable {}
