package dev.netherite.dsl;

/**
 * The address of one entity: its type's name and a key. Like an instance id, the key decides the
 * partition: a key ending in {@code !n} places the entity on partition {@code n mod P}.
 *
 * <p>Its text form, {@code @name@key}, is what the engine records; no orchestration id can take
 * that form.
 */
public record EntityId(String name, String key) implements Comparable<EntityId> {
  public EntityId {
    Names.requireValid("entity", name);
    if (name.indexOf('@') >= 0) {
      throw new IllegalArgumentException(
          "Entity name '" + name + "' contains '@', which separates name and key.");
    }
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException(
          "The key of an entity of type '" + name + "' must not be empty.");
    }
  }

  public static EntityId of(String name, String key) {
    return new EntityId(name, key);
  }

  /**
   * Reads the text form {@code @name@key}.
   *
   * @throws IllegalArgumentException when {@code text} is not of that form
   */
  public static EntityId parse(String text) {
    int at = text == null || !text.startsWith("@") ? -1 : text.indexOf('@', 1);
    if (at < 0) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an entity id; the form is @name@key.");
    }
    return new EntityId(text.substring(1, at), text.substring(at + 1));
  }

  /**
   * Whether {@code text} is the text form of an entity id rather than an orchestration instance id.
   */
  public static boolean isEntityId(String text) {
    return text != null && text.startsWith("@");
  }

  /** Ordered by text form: the order in which critical sections acquire their locks. */
  @Override
  public int compareTo(EntityId o) {
    return toString().compareTo(o.toString());
  }

  @Override
  public String toString() {
    return "@" + name + "@" + key;
  }
}
