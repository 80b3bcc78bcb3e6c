package dev.netherite.engine;

import dev.netherite.dsl.spi.DataConverter;
import java.lang.reflect.Type;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * INTERNAL API
 *
 * <p>Checks, once per pair of value class and declared type, that what the data converter writes it
 * can also read back. A type it can write but not read (with Jackson, a class without a creator)
 * would otherwise be accepted at the call and fail the receiving instance later, far from the
 * mistake. A pair that passed once is not checked again; one that fails is checked at every call
 * (and fails it), since a failure can depend on the value.
 */
public final class RoundTripCheck {
  private record Pair(Class<?> valueClass, Type readAs) {}

  private static final Map<DataConverter, Set<Pair>> VERIFIED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private RoundTripCheck() {}

  /**
   * Reads {@code text}, which the converter wrote for a value of {@code valueClass}, back as {@code
   * readAs}, unless that pair was read back before.
   *
   * @param what names the value in the error, e.g. "the input of orchestration 'X'"
   * @throws IllegalArgumentException when the converter cannot read it back
   */
  public static void verify(
      DataConverter converter, Class<?> valueClass, Type readAs, String text, String what) {
    if (text == null) {
      return;
    }
    Set<Pair> verified = VERIFIED.computeIfAbsent(converter, c -> ConcurrentHashMap.newKeySet());
    Pair pair = new Pair(valueClass, readAs);
    if (verified.contains(pair)) {
      return;
    }
    try {
      converter.deserialize(text, readAs);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          capitalized(what)
              + " is a "
              + valueClass.getName()
              + ", which the data converter can write but not read back as "
              + readAs.getTypeName()
              + ", so the receiver could never use it: "
              + e.getMessage()
              + " Use a type the converter can create (with the default Jackson converter: a record,"
              + " a class with a no-argument constructor, or one with a @JsonCreator).",
          e);
    }
    verified.add(pair);
  }

  /**
   * The type to read a value back as when the receiver's type is not known here (an event's
   * payload): its class, or for a collection or map the interface a receiver would declare, since
   * JDK implementations such as {@code Arrays.asList}'s cannot be created by name.
   */
  public static Class<?> readTypeOf(Object value) {
    return switch (value) {
      case java.util.List<?> l -> java.util.List.class;
      case java.util.Set<?> s -> java.util.Set.class;
      case java.util.Map<?, ?> m -> java.util.Map.class;
      case java.util.Collection<?> c -> java.util.Collection.class;
      default -> value.getClass();
    };
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
