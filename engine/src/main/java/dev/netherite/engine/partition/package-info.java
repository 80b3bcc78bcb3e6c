/**
 * INTERNAL API
 *
 * <p>The partition: a deterministic state machine over {@link
 * dev.netherite.engine.partition.PartitionEvent}s that returns {@link
 * dev.netherite.engine.partition.Effect}s. It reads no clock, draws no random number and starts no
 * thread; time arrives inside events. The actor that hosts it decides when effects run.
 */
package dev.netherite.engine.partition;
