package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.netherite.engine.partition.PendingActivity;

/**
 * INTERNAL API
 *
 * <p>Writes a {@link PendingActivity} exactly as Kryo writes the {@code String[] {activityName,
 * input}} that stood for it in checkpoints before it was a record, so that those checkpoints read
 * as they are and the checkpoint's bytes do not change. Null is accepted and written as the array
 * serializer writes it.
 */
final class PendingActivitySerializer extends Serializer<PendingActivity> {
  PendingActivitySerializer() {
    super(true, true);
  }

  @Override
  public void write(Kryo kryo, Output output, PendingActivity activity) {
    String[] pair =
        activity == null ? null : new String[] {activity.activityName(), activity.input()};
    arrays(kryo).write(kryo, output, pair);
  }

  @Override
  public PendingActivity read(Kryo kryo, Input input, Class<? extends PendingActivity> type) {
    String[] pair = arrays(kryo).read(kryo, input, String[].class);
    if (pair == null) {
      return null;
    }
    if (pair.length != 2) {
      throw new IllegalStateException(
          "a pending activity is two strings, activity name and input; found length="
              + pair.length);
    }
    return new PendingActivity(pair[0], pair[1]);
  }

  @SuppressWarnings("unchecked")
  private static Serializer<String[]> arrays(Kryo kryo) {
    return (Serializer<String[]>) kryo.getSerializer(String[].class);
  }
}
