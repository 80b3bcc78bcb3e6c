package dev.netherite.engine.orchestration;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.PayloadTooLargeException;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.PayloadLimits.Kind;
import dev.netherite.engine.partition.StepResult;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>Applies the payload limits to what a step produced, on the orchestration's thread (so that
 * measuring a large payload never runs on the partition's): a step whose output, custom status, or
 * any payload it sends (activity, sub-orchestration and entity inputs, raised events,
 * continue-as-new input) is over its limit fails its instance instead, with the limit named. Like
 * any failed step, it starts none of its actions.
 */
final class StepLimits {
  private final PayloadLimits limits;

  StepLimits(PayloadLimits limits) {
    this.limits = limits;
  }

  StepResult check(String instanceId, String orchestrationName, StepResult result) {
    String of = " of orchestration '" + orchestrationName + "' (instance " + instanceId + ")";
    PayloadTooLargeException e =
        result.customStatusChanged()
            ? limits.check(Kind.CUSTOM_STATUS, "the custom status" + of, result.customStatus())
            : null;
    for (int k = 0; e == null && k < result.actions().size(); k++) {
      e = checkAction(result.actions().get(k), of);
    }
    if (e == null && result.outcome() instanceof StepResult.Failed f) {
      FailureDetails capped = limits.capped(Kind.OUTPUT, f.failure());
      return capped == f.failure()
          ? result
          : new StepResult(List.of(), false, null, new StepResult.Failed(capped));
    }
    if (e == null) {
      e =
          switch (result.outcome()) {
            case StepResult.Completed c -> limits.check(Kind.OUTPUT, "the output" + of, c.output());
            case StepResult.ContinuedAsNew c ->
                limits.check(Kind.INPUT, "the continue-as-new input" + of, c.input());
            case null, default -> null;
          };
    }
    return e == null
        ? result
        : new StepResult(List.of(), false, null, new StepResult.Failed(FailureDetails.of(e)));
  }

  private PayloadTooLargeException checkAction(HistoryEvent action, String of) {
    return switch (action) {
      case HistoryEvent.TaskScheduled t ->
          limits.check(
              Kind.INPUT,
              "the input of activity '" + t.activityName() + "' called" + of,
              t.input());
      case HistoryEvent.SubOrchestrationCreated s ->
          limits.check(
              Kind.INPUT,
              "the input of sub-orchestration '" + s.orchestrationName() + "' called" + of,
              s.input());
      case HistoryEvent.EventSent s ->
          limits.check(
              Kind.EVENT_PAYLOAD, "the payload of event '" + s.name() + "' raised" + of, s.input());
      case HistoryEvent.EntityCalled c ->
          limits.check(
              Kind.INPUT, "the input of operation '" + c.operation() + "' called" + of, c.input());
      case HistoryEvent.EntitySignaled c ->
          limits.check(
              Kind.INPUT,
              "the input of operation '" + c.operation() + "' signaled" + of,
              c.input());
      default -> null;
    };
  }
}
