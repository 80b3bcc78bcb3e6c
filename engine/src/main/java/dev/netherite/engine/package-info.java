/**
 * INTERNAL API
 *
 * <p>The engine: the partition state machine ({@code partition}), the orchestration executor
 * ({@code orchestration}) and partition placement. Pure Java: no Pekko, Kryo or Cassandra. User
 * code never imports it.
 */
package dev.netherite.engine;
