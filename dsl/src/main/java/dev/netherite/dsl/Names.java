package dev.netherite.dsl;

final class Names {
  private Names() {}

  static void requireValid(String kind, String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("The name of an " + kind + " must not be empty.");
    }
    if (!name.equals(name.strip())) {
      throw new IllegalArgumentException(
          "The "
              + kind
              + " name '"
              + name
              + "' starts or ends with white space; names are recorded exactly.");
    }
  }
}
