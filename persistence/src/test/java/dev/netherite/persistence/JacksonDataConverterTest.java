package dev.netherite.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.spi.DataConversionException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JacksonDataConverterTest {
  private final JacksonDataConverter converter = new JacksonDataConverter();

  record Order(
      String id,
      int quantity,
      Instant placedAt,
      Duration timeout,
      List<Line> lines,
      Optional<String> note) {}

  record Line(String sku, double price) {}

  /** A class with private fields and no getters or setters. */
  static final class Counter {
    private String name;
    private long count;
    private transient String cache = "not written";

    Counter() {}

    Counter(String name, long count) {
      this.name = name;
      this.count = count;
    }
  }

  @Test
  void recordsRoundTrip() {
    Order order =
        new Order(
            "o-1",
            3,
            Instant.parse("2025-01-02T03:04:05.123Z"),
            Duration.ofSeconds(90),
            List.of(new Line("a", 1.5), new Line("b", 2.0)),
            Optional.of("gift"));
    String json = converter.serialize(order);
    assertEquals(
        "{\"id\":\"o-1\",\"quantity\":3,\"placedAt\":\"2025-01-02T03:04:05.123Z\",\"timeout\":\"PT1M30S\","
            + "\"lines\":[{\"sku\":\"a\",\"price\":1.5},{\"sku\":\"b\",\"price\":2.0}],\"note\":\"gift\"}",
        json);
    assertEquals(order, converter.deserialize(json, Order.class));
  }

  @Test
  void recordsFromTheDslRoundTrip() {
    FailureDetails failure = new FailureDetails("E", "m", "s", FailureDetails.of("C", "c"));
    assertEquals(
        failure, converter.deserialize(converter.serialize(failure), FailureDetails.class));
  }

  @Test
  void classesWithFieldsOnlyRoundTrip() {
    String json = converter.serialize(new Counter("hits", 7));
    assertEquals("{\"name\":\"hits\",\"count\":7}", json);
    Counter back = converter.deserialize(json, Counter.class);
    assertEquals("hits", back.name);
    assertEquals(7, back.count);
  }

  @Test
  void genericListsRoundTrip() {
    List<Line> lines = List.of(new Line("a", 1.0));
    Object back =
        converter.deserialize(
            converter.serialize(lines), new TypeReference<List<Line>>() {}.getType());
    assertEquals(lines, back);
  }

  @Test
  void scalarsRoundTrip() {
    assertEquals("42", converter.serialize(42));
    assertEquals(42, converter.deserialize("42", Integer.class));
    assertEquals("\"text\"", converter.serialize("text"));
    assertEquals("text", converter.deserialize("\"text\"", String.class));
    OffsetDateTime time = OffsetDateTime.parse("2025-01-02T03:04:05+02:00");
    assertEquals(time, converter.deserialize(converter.serialize(time), OffsetDateTime.class));
  }

  @Test
  void mapEntriesAreWrittenInKeyOrder() {
    Map<String, Integer> map = new HashMap<>();
    for (String key : List.of("zulu", "alpha", "mike", "bravo")) {
      map.put(key, key.length());
    }
    assertEquals("{\"alpha\":5,\"bravo\":5,\"mike\":4,\"zulu\":4}", converter.serialize(map));
  }

  @Test
  void unknownPropertiesAreIgnored() {
    assertEquals(
        new Line("a", 1.0),
        converter.deserialize("{\"sku\":\"a\",\"price\":1.0,\"gone\":true}", Line.class));
  }

  @Test
  void nullConvertsToNullBothWays() {
    assertNull(converter.serialize(null));
    assertNull(converter.deserialize(null, Order.class));
    assertNull(converter.deserialize(null, new TypeReference<List<Line>>() {}.getType()));
    assertNull(converter.deserialize("null", Order.class));
  }

  @Test
  void voidIsAlwaysNull() {
    assertNull(converter.deserialize("null", Void.class));
    assertNull(converter.deserialize("{\"anything\":1}", Void.class));
    assertNull(converter.deserialize("ignored", void.class));
  }

  @Test
  void badTextFailsWithTheTypeAndTheText() {
    DataConversionException e =
        assertThrows(
            DataConversionException.class, () -> converter.deserialize("abc", Integer.class));
    assertTrue(
        e.getMessage()
            .startsWith("Cannot read a value of type Integer from the recorded text \"abc\": "),
        e.getMessage());
    assertTrue(e.getMessage().contains("Unrecognized token 'abc'"), e.getMessage());

    DataConversionException wrongShape =
        assertThrows(
            DataConversionException.class, () -> converter.deserialize("[1,2]", Line.class));
    assertTrue(
        wrongShape
            .getMessage()
            .startsWith(
                "Cannot read a value of type "
                    + "dev.netherite.persistence.JacksonDataConverterTest.Line from the recorded text \"[1,2]\": "),
        wrongShape.getMessage());
  }

  @Test
  void aValueJacksonCannotWriteFailsWithItsType() {
    Object selfReferencing =
        new Object() {
          @SuppressWarnings("unused")
          public Object getSelf() {
            return this;
          }
        };
    DataConversionException e =
        assertThrows(DataConversionException.class, () -> converter.serialize(selfReferencing));
    assertTrue(e.getMessage().startsWith("Cannot write a value of type "), e.getMessage());
  }
}
