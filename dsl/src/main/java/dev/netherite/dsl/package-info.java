/**
 * The programming model of the engine: orchestrations, activities, their contexts, {@link
 * dev.netherite.dsl.Task}, typed references, the registry ({@link dev.netherite.dsl.Workflows}) and
 * the client ({@link dev.netherite.dsl.DurableClient}).
 *
 * <p>This package depends on the JDK only. User code imports this package and nothing else of the
 * engine.
 */
package dev.netherite.dsl;
