package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;

/**
 * INTERNAL API
 *
 * <p>Kryo serializers for Pekko actor references, typed and classic, written as their
 * serialization-format path (with address and uid) and resolved against the actor system on read.
 *
 * <p>The runtime classes of actor references are internal to Pekko ({@code ActorRefAdapter}, {@code
 * LocalActorRef}, {@code RemoteActorRef}, ...) and vary with the provider; with registration
 * required they could not be registered one by one. {@link ActorRefClassResolver} maps every
 * implementation onto the registration of its interface, so a field of type {@code ActorRef} works
 * whatever reference it holds.
 */
final class ActorRefSerializers {
  private ActorRefSerializers() {}

  /** Typed {@link ActorRef} through {@link ActorRefResolver}. */
  static final class TypedActorRefSerializer extends Serializer<ActorRef<?>> {
    private final ExtendedActorSystem system;
    // Looked up on first use: the serializer may be created while the actor system is still
    // starting.
    private ActorRefResolver resolver;

    TypedActorRefSerializer(ExtendedActorSystem systemOrNull) {
      super(false, true);
      this.system = systemOrNull;
    }

    @Override
    public void write(Kryo kryo, Output output, ActorRef<?> ref) {
      output.writeString(resolver().toSerializationFormat(ref));
    }

    @Override
    public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
      return resolver().resolveActorRef(input.readString());
    }

    private ActorRefResolver resolver() {
      if (resolver == null) {
        resolver = ActorRefResolver.get(Adapter.toTyped(requireSystem(system)));
      }
      return resolver;
    }
  }

  /** Classic {@link org.apache.pekko.actor.ActorRef} through the actor-ref provider. */
  static final class ClassicActorRefSerializer extends Serializer<org.apache.pekko.actor.ActorRef> {
    private final ExtendedActorSystem system;

    ClassicActorRefSerializer(ExtendedActorSystem systemOrNull) {
      super(false, true);
      this.system = systemOrNull;
    }

    @Override
    public void write(Kryo kryo, Output output, org.apache.pekko.actor.ActorRef ref) {
      requireSystem(system);
      output.writeString(Serialization.serializedActorPath(ref));
    }

    @Override
    public org.apache.pekko.actor.ActorRef read(
        Kryo kryo, Input input, Class<? extends org.apache.pekko.actor.ActorRef> type) {
      return requireSystem(system).provider().resolveActorRef(input.readString());
    }
  }

  private static ExtendedActorSystem requireSystem(ExtendedActorSystem system) {
    if (system == null) {
      throw new IllegalStateException(
          "An actor reference can only be serialized by the KryoSerializer of an actor system; this Kryo was "
              + "configured without one (WireRegistry.registerAll(kryo, null)).");
    }
    return system;
  }

  /**
   * Resolves any implementation of typed or classic {@code ActorRef} to the registration of the
   * interface (or abstract class) itself, so the id on the wire is the interface's and the
   * serializer above reads it back.
   */
  static final class ActorRefClassResolver extends DefaultClassResolver {
    @Override
    @SuppressWarnings("rawtypes") // Kryo's ClassResolver signature
    public Registration getRegistration(Class type) {
      Registration registration = super.getRegistration(type);
      if (registration == null) {
        if (ActorRef.class.isAssignableFrom(type)) {
          registration = super.getRegistration(ActorRef.class);
        } else if (org.apache.pekko.actor.ActorRef.class.isAssignableFrom(type)) {
          registration = super.getRegistration(org.apache.pekko.actor.ActorRef.class);
        }
      }
      return registration;
    }
  }
}
