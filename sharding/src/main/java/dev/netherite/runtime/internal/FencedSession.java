package dev.netherite.runtime.internal;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.context.DriverContext;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.metadata.Metadata;
import com.datastax.oss.driver.api.core.metrics.Metrics;
import com.datastax.oss.driver.api.core.session.Request;
import com.datastax.oss.driver.api.core.type.reflect.GenericType;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * INTERNAL API
 *
 * <p>The Cassandra session of the journal, the snapshot store and the leases, which dates every
 * bound statement (or batch of them) that writes a partition's rows by the partition's {@link
 * WriteFence}. Everything else passes through unchanged.
 */
final class FencedSession implements CqlSession {
  private static final String PERSISTENCE_ID = "persistence_id";

  private final CqlSession delegate;
  private final WriteFence fence;

  FencedSession(CqlSession delegate, WriteFence fence) {
    this.delegate = delegate;
    this.fence = fence;
  }

  @Override
  public <RequestT extends Request, ResultT> ResultT execute(
      RequestT request, GenericType<ResultT> resultType) {
    return delegate.execute(dated(request), resultType);
  }

  @SuppressWarnings("unchecked")
  private <RequestT extends Request> RequestT dated(RequestT request) {
    String persistenceId = null;
    if (request instanceof BoundStatement bound) {
      persistenceId = persistenceIdOf(bound);
      if (persistenceId != null) {
        long ts = fence.timestampFor(persistenceId);
        if (ts != Long.MIN_VALUE) {
          return (RequestT) bound.setQueryTimestamp(ts);
        }
      }
    } else if (request instanceof BatchStatement batch) {
      for (BatchableStatement<?> s : batch) {
        if (s instanceof BoundStatement bound && (persistenceId = persistenceIdOf(bound)) != null) {
          break;
        }
      }
      if (persistenceId != null) {
        long ts = fence.timestampFor(persistenceId);
        if (ts != Long.MIN_VALUE) {
          return (RequestT) batch.setQueryTimestamp(ts);
        }
      }
    }
    return request;
  }

  private static String persistenceIdOf(BoundStatement bound) {
    if (!bound.getPreparedStatement().getVariableDefinitions().contains(PERSISTENCE_ID)
        || !bound.isSet(PERSISTENCE_ID)
        || bound.isNull(PERSISTENCE_ID)) {
      return null;
    }
    // A read is dated too, which changes nothing for it.
    return bound.getString(PERSISTENCE_ID);
  }

  @Override
  public String getName() {
    return delegate.getName();
  }

  @Override
  public Metadata getMetadata() {
    return delegate.getMetadata();
  }

  @Override
  public boolean isSchemaMetadataEnabled() {
    return delegate.isSchemaMetadataEnabled();
  }

  @Override
  public CompletionStage<Metadata> setSchemaMetadataEnabled(Boolean newValue) {
    return delegate.setSchemaMetadataEnabled(newValue);
  }

  @Override
  public CompletionStage<Metadata> refreshSchemaAsync() {
    return delegate.refreshSchemaAsync();
  }

  @Override
  public CompletionStage<Boolean> checkSchemaAgreementAsync() {
    return delegate.checkSchemaAgreementAsync();
  }

  @Override
  public DriverContext getContext() {
    return delegate.getContext();
  }

  @Override
  public Optional<CqlIdentifier> getKeyspace() {
    return delegate.getKeyspace();
  }

  @Override
  public Optional<Metrics> getMetrics() {
    return delegate.getMetrics();
  }

  @Override
  public CompletionStage<Void> closeFuture() {
    return delegate.closeFuture();
  }

  @Override
  public CompletionStage<Void> closeAsync() {
    return delegate.closeAsync();
  }

  @Override
  public CompletionStage<Void> forceCloseAsync() {
    return delegate.forceCloseAsync();
  }
}
