package dev.netherite.runtime.internal;

import dev.netherite.engine.host.HostInput;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/**
 * INTERNAL API: messages a partition actor sends itself (results of local work, timers); they never
 * leave the node.
 */
sealed interface LocalSignal extends NoSerializationVerificationNeeded {

  record ToHost(HostInput input) implements LocalSignal {}
}
