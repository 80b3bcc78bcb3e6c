package dev.netherite.runtime;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.snapshot.japi.SnapshotStore;
import scala.concurrent.Future;

/** A snapshot store that has nothing and refuses every save, counting the attempts. */
public final class FailingSnapshotStore extends SnapshotStore {
  static final AtomicInteger SAVES = new AtomicInteger();

  @Override
  public Future<Optional<SelectedSnapshot>> doLoadAsync(
      String persistenceId, SnapshotSelectionCriteria criteria) {
    return Futures.successful(Optional.empty());
  }

  @Override
  public Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
    SAVES.incrementAndGet();
    return Futures.failed(
        new IllegalStateException("this snapshot store refuses every checkpoint"));
  }

  @Override
  public Future<Void> doDeleteAsync(SnapshotMetadata metadata) {
    return Futures.successful(null);
  }

  @Override
  public Future<Void> doDeleteAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
    return Futures.successful(null);
  }
}
