package dev.netherite.dsl;

/**
 * A filter over entities, for {@link DurableClient#listEntities}. Results come in pages of at most
 * {@code pageSize}; pass the page's continuation token to get the next one.
 *
 * @param name include entities of this type only, or {@code null} for every type
 * @param keyPrefix include entities whose key starts with this, or {@code null}; needs {@code name}
 * @param pageSize the most entities in one page, 1 to 10000
 * @param continuationToken where the previous page ended, or {@code null} for the first page
 */
public record EntityQuery(String name, String keyPrefix, int pageSize, String continuationToken) {
  public EntityQuery {
    if (pageSize < 1 || pageSize > 10_000) {
      throw new IllegalArgumentException(
          "The page size must be between 1 and 10000, got " + pageSize + ".");
    }
    if (name != null && name.indexOf('@') >= 0) {
      throw new IllegalArgumentException(
          "Entity name '" + name + "' contains '@', which no entity name contains.");
    }
    if (keyPrefix != null && name == null) {
      throw new IllegalArgumentException(
          "A key prefix ('" + keyPrefix + "') filters the keys of one entity type: give its name.");
    }
  }

  /** Every entity, 100 to a page. */
  public static EntityQuery all() {
    return new EntityQuery(null, null, 100, null);
  }

  /** The entities of type {@code name}, 100 to a page. */
  public static EntityQuery ofType(String name) {
    return new EntityQuery(name, null, 100, null);
  }

  public EntityQuery withKeyPrefix(String prefix) {
    return new EntityQuery(name, prefix, pageSize, continuationToken);
  }

  public EntityQuery withPageSize(int size) {
    return new EntityQuery(name, keyPrefix, size, continuationToken);
  }

  public EntityQuery continueAfter(String token) {
    return new EntityQuery(name, keyPrefix, pageSize, token);
  }

  /** The prefix of the ids ({@code @name@key}) this query matches, or null for all. */
  public String idPrefix() {
    if (name == null) {
      return null;
    }
    return "@" + name + "@" + (keyPrefix == null ? "" : keyPrefix);
  }
}
