package dev.netherite.engine;

import java.util.List;
import java.util.Objects;

/**
 * INTERNAL API
 *
 * <p>One module's list of the classes it puts on the wire (messages between nodes, journal events,
 * snapshots), each with its fixed registration id. The serializer in {@code persistence/} finds
 * every registrar on the classpath with {@link java.util.ServiceLoader} (a module names its
 * registrar in {@code META-INF/services/dev.netherite.engine.WireRegistrar}) and registers their
 * classes; a module above persistence so registers its own classes without persistence naming them.
 *
 * <p>Each module owns the id ranges it declares, and the serializer refuses to start when two
 * modules' ranges overlap, when an id lies outside its module's ranges, or when an id or a class is
 * registered twice. The ranges in use are listed in {@code
 * dev.netherite.persistence.internal.WireRegistry}.
 *
 * <p>An id, once written, is forever: it is in journals, snapshots and messages between nodes of
 * different versions. Never reuse, renumber or remove one whose class may still be stored (the
 * rules are in {@code WireRegistry} and docs/STYLE.md, rule 12).
 *
 * <p>This interface is plain Java, so the engine can list its own classes without knowing Kryo.
 * Classes are written with the serializer's default for their kind (records by component, enums by
 * constant name); custom serializers are persistence's own business.
 */
public interface WireRegistrar {

  /** The module whose classes these are, as error messages name it, e.g. {@code "engine"}. */
  String module();

  /** The id ranges this module owns; no other module may use an id inside them. */
  List<IdRange> ids();

  /** Every registration of this module. */
  List<Registration> registrations();

  /** A registration: {@code type} is written as {@code id}. */
  record Registration(int id, Class<?> type) {
    public Registration {
      Objects.requireNonNull(type, "type");
    }
  }

  /** The ids {@code first} to {@code last}, both included. */
  record IdRange(int first, int last) {
    public IdRange {
      if (first > last) {
        throw new IllegalArgumentException(
            "An id range must not be empty: first " + first + " > last " + last);
      }
    }

    public boolean contains(int id) {
      return id >= first && id <= last;
    }

    public boolean overlaps(IdRange other) {
      return first <= other.last && other.first <= last;
    }

    @Override
    public String toString() {
      return first + ".." + last;
    }
  }

  /** Shorthand for one line of a registrar's list: {@code wire(221, MyEvent.class)}. */
  static Registration wire(int id, Class<?> type) {
    return new Registration(id, type);
  }

  /** Shorthand for a range: {@code range(100, 189)}. */
  static IdRange range(int first, int last) {
    return new IdRange(first, last);
  }
}
