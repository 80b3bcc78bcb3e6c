package dev.netherite.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.PayloadTooLargeException;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.RoundTripCheck;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The payload checks with the default converter: round trips and sizes in UTF-8 bytes. */
class PayloadChecksTest {
  private final JacksonDataConverter converter = new JacksonDataConverter();

  static final class WriteOnly {
    private final int value;

    WriteOnly(int value) {
      this.value = value;
    }
  }

  record Readable(int value) {}

  @Test
  void jdkCollectionsAndRecordsRoundTripAndAWriteOnlyClassDoesNot() {
    for (Object value :
        List.of(
            Arrays.asList(1, 2),
            Collections.unmodifiableList(List.of("a")),
            new TreeMap<>(Map.of("k", 1)).keySet(),
            Map.of("a", 1),
            new Readable(3),
            "text")) {
      RoundTripCheck.verify(
          converter,
          value.getClass(),
          RoundTripCheck.readTypeOf(value),
          converter.serialize(value),
          "the payload");
    }
    WriteOnly w = new WriteOnly(1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RoundTripCheck.verify(
                    converter,
                    WriteOnly.class,
                    WriteOnly.class,
                    converter.serialize(w),
                    "the input"));
    assertTrue(e.getMessage().startsWith("The input is a "), e.getMessage());
    assertTrue(e.getMessage().contains("read back"), e.getMessage());
  }

  @Test
  void limitsCountUtf8BytesAndNameTheSetting() {
    PayloadLimits limits = new PayloadLimits(10, 10, 10, 10, 10, 10);
    assertNull(limits.check(PayloadLimits.Kind.INPUT, "the input", "0123456789"));
    // 4 characters of 3 bytes each: 12 bytes, over 10
    PayloadTooLargeException e = limits.check(PayloadLimits.Kind.INPUT, "the input", "€€€€");
    assertNotNull(e);
    assertTrue(e.getMessage().contains("12 bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("netherite.limits.input"), e.getMessage());
    assertNull(limits.check(PayloadLimits.Kind.INPUT, "the input", null));
    FailureDetails big = FailureDetails.of("E", "x".repeat(100));
    FailureDetails capped = limits.capped(PayloadLimits.Kind.ACTIVITY_RESULT, big);
    assertEquals("E", capped.errorType());
    assertTrue(capped.message().contains("netherite.limits.activity-result"), capped.message());
  }
}
