package dev.netherite.engine.simulation;

import dev.netherite.dsl.spi.DataConversionException;
import dev.netherite.dsl.spi.DataConverter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * A small deterministic converter for tests, without JSON: strings, integers, longs, booleans,
 * UUIDs and lists of them. Every value is written with its type tag and, for text, its length, so
 * that parsing is unambiguous: {@code "s5:hello"}, {@code "i42;"}, {@code "[2:s1:ai7;"}.
 */
public final class TestDataConverter implements DataConverter {

  @Override
  public String serialize(Object value) {
    if (value == null) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  private static void write(Object value, StringBuilder out) {
    switch (value) {
      case null -> out.append('n');
      case String s -> out.append('s').append(s.length()).append(':').append(s);
      case Integer i -> out.append('i').append(i).append(';');
      case Long l -> out.append('l').append(l).append(';');
      case Boolean b -> out.append(b ? "b1" : "b0");
      case UUID u -> out.append('u').append(u).append(';');
      case List<?> list -> {
        out.append('[').append(list.size()).append(':');
        for (Object element : list) {
          write(element, out);
        }
      }
      default ->
          throw new DataConversionException(
              "TestDataConverter cannot represent a " + value.getClass().getName(), null);
    }
  }

  @Override
  public <T> T deserialize(String data, Class<T> type) {
    if (data == null || type == Void.class || type == void.class) {
      return null;
    }
    Object value = parse(data);
    Class<?> boxed = box(type);
    if (value != null && !boxed.isInstance(value)) {
      throw new DataConversionException(
          "text '"
              + data
              + "' holds a "
              + value.getClass().getSimpleName()
              + ", not a "
              + type.getSimpleName(),
          null);
    }
    @SuppressWarnings("unchecked")
    T typed = (T) value;
    return typed;
  }

  @Override
  public Object deserialize(String data, Type type) {
    if (type instanceof Class<?> c) {
      return deserialize(data, c);
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
      return deserialize(data, raw);
    }
    throw new DataConversionException("TestDataConverter does not read type " + type, null);
  }

  private static Class<?> box(Class<?> type) {
    if (!type.isPrimitive()) {
      return type;
    }
    if (type == int.class) {
      return Integer.class;
    }
    if (type == long.class) {
      return Long.class;
    }
    if (type == boolean.class) {
      return Boolean.class;
    }
    return type;
  }

  private static Object parse(String data) {
    Reader reader = new Reader(data);
    Object value = reader.read();
    if (reader.pos != data.length()) {
      throw new DataConversionException(
          "trailing text at " + reader.pos + " in '" + data + "'", null);
    }
    return value;
  }

  private static final class Reader {
    private final String text;
    private int pos;

    Reader(String text) {
      this.text = text;
    }

    Object read() {
      try {
        char tag = text.charAt(pos++);
        return switch (tag) {
          case 'n' -> null;
          case 's' -> {
            int length = number(':');
            String s = text.substring(pos, pos + length);
            pos += length;
            yield s;
          }
          case 'i' -> Integer.parseInt(until(';'));
          case 'l' -> Long.parseLong(until(';'));
          case 'b' -> text.charAt(pos++) == '1';
          case 'u' -> UUID.fromString(until(';'));
          case '[' -> {
            int size = number(':');
            List<Object> list = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
              list.add(read());
            }
            yield Collections.unmodifiableList(list);
          }
          default ->
              throw new DataConversionException(
                  "unknown tag '" + tag + "' in '" + text + "'", null);
        };
      } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
        throw new DataConversionException("malformed text '" + text + "'", e);
      }
    }

    private int number(char end) {
      return Integer.parseInt(until(end));
    }

    private String until(char end) {
      int at = text.indexOf(end, pos);
      if (at < 0) {
        throw new DataConversionException("missing '" + end + "' in '" + text + "'", null);
      }
      String s = text.substring(pos, at);
      pos = at + 1;
      return s;
    }
  }
}
