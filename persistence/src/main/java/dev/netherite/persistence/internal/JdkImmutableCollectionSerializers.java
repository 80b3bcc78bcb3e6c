package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * INTERNAL API
 *
 * <p>Kryo serializers for the JDK's immutable collections ({@code List.of}, {@code List.copyOf},
 * {@code Stream.toList}, {@code Set.of}, {@code Map.of} and their {@code copyOf}), whose runtime
 * classes ({@code java.util.ImmutableCollections$ListN} and so on) are private to the JDK.
 *
 * <p>Kryo 5.6.2 ships {@code ImmutableCollectionsSerializers}, but it writes sets and maps in
 * iteration order, and the iteration order of {@code Set.of} and {@code Map.of} is randomized per
 * JVM ({@code ImmutableCollections.SALT}): the same value would give different bytes in each
 * process, which breaks golden fixtures and makes journals needlessly unreproducible. These
 * serializers sort the elements (the keys) when they are all of one {@link Comparable} class, and
 * otherwise fall back to iteration order.
 *
 * <p>Format: the size as a positive varint, then each element (each key and value) with its class
 * id.
 */
final class JdkImmutableCollectionSerializers {
  private JdkImmutableCollectionSerializers() {}

  /**
   * Reads back as {@code List.of}, or as {@code Stream.toList()} when an element is null (which
   * List.of refuses).
   */
  static final class ListSerializer extends Serializer<List<?>> {
    ListSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, List<?> list) {
      output.writeVarInt(list.size(), true);
      for (Object element : list) {
        kryo.writeClassAndObject(output, element);
      }
    }

    @Override
    public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
      Object[] elements = new Object[input.readVarInt(true)];
      boolean hasNull = false;
      for (int i = 0; i < elements.length; i++) {
        elements[i] = kryo.readClassAndObject(input);
        hasNull |= elements[i] == null;
      }
      return hasNull ? Stream.of(elements).toList() : List.of(elements);
    }
  }

  /** Reads back as {@code Set.of}. */
  static final class SetSerializer extends Serializer<Set<?>> {
    SetSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, Set<?> set) {
      Object[] elements = set.toArray();
      sortIfComparable(elements, Function.identity());
      output.writeVarInt(elements.length, true);
      for (Object element : elements) {
        kryo.writeClassAndObject(output, element);
      }
    }

    @Override
    public Set<?> read(Kryo kryo, Input input, Class<? extends Set<?>> type) {
      Object[] elements = new Object[input.readVarInt(true)];
      for (int i = 0; i < elements.length; i++) {
        elements[i] = kryo.readClassAndObject(input);
      }
      return Set.of(elements);
    }
  }

  /** Reads back as {@code Map.ofEntries}. */
  static final class MapSerializer extends Serializer<Map<?, ?>> {
    MapSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, Map<?, ?> map) {
      Map.Entry<?, ?>[] entries = map.entrySet().toArray(new Map.Entry<?, ?>[0]);
      sortIfComparable(entries, e -> ((Map.Entry<?, ?>) e).getKey());
      output.writeVarInt(entries.length, true);
      for (Map.Entry<?, ?> entry : entries) {
        kryo.writeClassAndObject(output, entry.getKey());
        kryo.writeClassAndObject(output, entry.getValue());
      }
    }

    @Override
    public Map<?, ?> read(Kryo kryo, Input input, Class<? extends Map<?, ?>> type) {
      @SuppressWarnings({"unchecked", "rawtypes"})
      Map.Entry<Object, Object>[] entries = new Map.Entry[input.readVarInt(true)];
      for (int i = 0; i < entries.length; i++) {
        Object key = kryo.readClassAndObject(input);
        entries[i] = Map.entry(key, kryo.readClassAndObject(input));
      }
      return Map.ofEntries(entries);
    }
  }

  /**
   * Sorts {@code items} by {@code key} when the keys are all instances of the same {@link
   * Comparable} class (the common case: strings, numbers, enums, ids); otherwise leaves them in
   * iteration order.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static void sortIfComparable(Object[] items, Function<Object, Object> key) {
    if (items.length < 2) {
      return;
    }
    Class<?> keyClass = key.apply(items[0]) == null ? null : key.apply(items[0]).getClass();
    for (Object item : items) {
      Object k = key.apply(item);
      if (!(k instanceof Comparable) || k.getClass() != keyClass) {
        return;
      }
    }
    Arrays.sort(items, (a, b) -> ((Comparable) key.apply(a)).compareTo(key.apply(b)));
  }
}
