package dev.netherite.persistence;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.netherite.dsl.spi.DataConversionException;
import dev.netherite.dsl.spi.DataConverter;
import java.lang.reflect.Type;
import java.util.Objects;

/**
 * The default {@link DataConverter}: values as JSON text, with Jackson.
 *
 * <p>With the {@linkplain #defaultMapper() default mapper}:
 *
 * <ul>
 *   <li>records, classes with getters and setters, and classes with plain fields and no getters
 *       (fields of any visibility are properties; {@code transient} fields are not) are supported,
 *       as are {@code Optional} and the {@code java.time} types;
 *   <li>dates, times and durations are ISO-8601 strings ({@code "2025-01-02T03:04:05Z"}, {@code
 *       "PT1M30S"}), and an offset or zone read back is kept as written, not adjusted to UTC;
 *   <li>map entries are written sorted by key, so that the same value always gives the same text;
 *   <li>properties in the text that the type does not have are ignored, so that a field can be
 *       removed from a class while histories still hold it.
 * </ul>
 *
 * <p>A class without a no-argument constructor (other than a record) needs Jackson's
 * {@code @JsonCreator}. {@code null} converts to {@code null} both ways, and a value of type {@link
 * Void} is always {@code null}. To customize, pass a mapper derived from {@link #defaultMapper()},
 * e.g. {@code defaultMapper().rebuild().addModule(myModule).build()}.
 *
 * <p>Thread-safe.
 */
public final class JacksonDataConverter implements DataConverter {
  private static final int MAX_QUOTED_TEXT = 200;

  private final ObjectMapper mapper;

  /** A converter with the {@linkplain #defaultMapper() default mapper}. */
  public JacksonDataConverter() {
    this(defaultMapper());
  }

  /** A converter with the given mapper, which must not be reconfigured afterwards. */
  public JacksonDataConverter(ObjectMapper mapper) {
    this.mapper = Objects.requireNonNull(mapper, "mapper");
  }

  /** A new mapper with the settings described on this class. */
  public static JsonMapper defaultMapper() {
    // Activities and orchestrations run on virtual threads, one per call: Jackson's default
    // thread-local buffer
    // pool would never reuse a buffer there, and allocating fresh ones was a fifth of the engine's
    // CPU (profiled).
    JsonFactory factory =
        JsonFactory.builder().recyclerPool(JsonRecyclerPools.newConcurrentDequePool()).build();
    return JsonMapper.builder(factory)
        .addModule(new JavaTimeModule())
        .addModule(new Jdk8Module())
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
        .visibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
        .build();
  }

  @Override
  public String serialize(Object value) {
    if (value == null) {
      return null;
    }
    try {
      return mapper.writeValueAsString(value);
    } catch (JacksonException e) {
      throw new DataConversionException(
          "Cannot write a value of type "
              + typeName(value.getClass())
              + " as JSON: "
              + e.getOriginalMessage(),
          e);
    }
  }

  @Override
  public <T> T deserialize(String data, Class<T> type) {
    return type.cast(deserialize(data, (Type) type));
  }

  @Override
  public Object deserialize(String data, Type type) {
    if (data == null || type == Void.class || type == void.class) {
      return null;
    }
    try {
      return mapper.readValue(data, mapper.getTypeFactory().constructType(type));
    } catch (JacksonException e) {
      throw new DataConversionException(
          "Cannot read a value of type "
              + typeName(type)
              + " from the recorded text "
              + quote(data)
              + ": "
              + e.getOriginalMessage(),
          e);
    }
  }

  private static String typeName(Type type) {
    if (type instanceof Class<?> c) {
      if (c.getPackageName().equals("java.lang")) {
        return c.getSimpleName();
      }
      return c.getCanonicalName() != null ? c.getCanonicalName() : c.getName();
    }
    return type.getTypeName().replace("java.lang.", "");
  }

  private static String quote(String text) {
    String shown =
        text.length() <= MAX_QUOTED_TEXT
            ? text
            : text.substring(0, MAX_QUOTED_TEXT) + "... (" + text.length() + " characters)";
    return "\"" + shown + "\"";
  }
}
