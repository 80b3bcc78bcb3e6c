/**
 * INTERNAL API
 *
 * <p>The Pekko host of the engine: the partition as a sharded entity with its pipelined commit log,
 * delivery between partitions, activity workers and the client.
 */
package dev.netherite.runtime.internal;
