/**
 * The Netherite runtime on Pekko Cluster Sharding (module {@code sharding/}, artifact {@code
 * netherite-sharding}): {@link dev.netherite.runtime.DurableRuntime} starts it on an actor system,
 * hosting each partition as a sharded entity. The package names what applications use, the module
 * how it is built.
 */
package dev.netherite.runtime;
