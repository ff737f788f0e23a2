/**
 * The custom-resource skeleton every handler runs on: the Provider framework's `onEvent` and
 * `isComplete` entry points, dispatching to a resource's create/update/delete callbacks.
 *
 * What every handler must do is done here, once:
 * - log the event (identifiers and property names only: `describeEvent`);
 * - run the request rules, where ownership checks and rollback rules plug in (`rules`);
 * - turn a failure into the error CloudFormation shows, naming the construct property (`mapError`),
 *   and log it;
 * - refuse a response CloudFormation would reject as too long (over 4096 bytes), with a message
 *   that says which attributes are large, instead of CloudFormation's bare "Response object is too long".
 */
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from './cfn';
import { errorMessage } from './errors';
import { describeEvent, log } from './log';

/** CloudFormation's limit on a custom resource's response body. */
export const MAX_RESPONSE_BYTES = 4096;

/** One resource type's callbacks. Each receives the event as the Provider framework sends it. */
export interface ResourceLifecycle<P> {
  create(event: OnEventRequest<P>): Promise<OnEventResponse>;
  update(event: OnEventRequest<P>): Promise<OnEventResponse>;
  delete(event: OnEventRequest<P>): Promise<OnEventResponse>;
  /** Only for a resource that waits; without it the resource is complete when onEvent returns. */
  isComplete?(event: IsCompleteRequest<P>): Promise<IsCompleteResponse>;
}

/**
 * A rule every request passes before its callback runs: it throws to refuse the request, returns a
 * response to answer it without the callback, or returns undefined to go on. Ownership checks
 * ("never update or delete what this stack did not create") and rollback rules plug in here, so
 * they are written once for every resource.
 */
export type RequestRule = (event: OnEventRequest<unknown>) => Promise<OnEventResponse | undefined> | OnEventResponse | undefined;

/** What a handler is made of. */
export interface HandlerSpec {
  /** The handler's name in messages (e.g. `server-certificate`). */
  readonly name: string;
  /** The resources it serves, by ResourceType; any other type fails the request. */
  readonly resources: Readonly<Record<string, ResourceLifecycle<never>>>;
  /**
   * The error CloudFormation shows for a failure (e.g. a service error explained for the construct
   * property at fault). @default the error itself (a non-Error becomes an Error with its message)
   */
  readonly mapError?: (e: unknown, event: OnEventRequest<unknown>) => Error;
  /** Run in order before every onEvent callback. @default none */
  readonly rules?: readonly RequestRule[];
}

/** The Provider framework's entry points, for events whose properties are `P`. */
export interface Handler<P> {
  onEvent(event: OnEventRequest<P>): Promise<OnEventResponse>;
  isComplete(event: IsCompleteRequest<P>): Promise<IsCompleteResponse>;
}

/**
 * Builds the entry points of a handler from its resources' callbacks. `P` is what its events carry
 * (the union of its resources' properties).
 */
export function customResourceHandler<P>(spec: HandlerSpec): Handler<P> {
  const mapError = spec.mapError ?? ((e: unknown) => (e instanceof Error ? e : new Error(errorMessage(e))));

  const lifecycleOf = (event: OnEventRequest<unknown>): ResourceLifecycle<unknown> => {
    const resource = Object.prototype.hasOwnProperty.call(spec.resources, event.ResourceType) ? spec.resources[event.ResourceType] : undefined;
    if (!resource) {
      const types = Object.keys(spec.resources);
      const served = types.length > 1 ? `${types.slice(0, -1).join(', ')} and ${types[types.length - 1]}` : types.join('');
      const type = String(event.ResourceType);
      throw new Error(`this ${spec.name} handler serves ${served}, not ${type}: unexpected resource type ${type}`);
    }
    return resource as ResourceLifecycle<unknown>;
  };

  const fail = (entryPoint: string, event: OnEventRequest<unknown>, e: unknown): Error => {
    const error = mapError(e, event);
    log('error', 'request failed', {
      handler: spec.name,
      entryPoint,
      requestType: event.RequestType,
      resourceType: event.ResourceType,
      logicalResourceId: event.LogicalResourceId,
      errorName: error.name,
      error: error.message,
    });
    return error;
  };

  return {
    async onEvent(event: OnEventRequest<unknown>) {
      log('info', 'event', { entryPoint: 'onEvent', ...describeEvent(event) });
      try {
        const resource = lifecycleOf(event);
        let response: OnEventResponse | undefined;
        for (const rule of spec.rules ?? []) {
          response = await rule(event);
          if (response !== undefined) {
            break;
          }
        }
        response = response ?? await dispatch(resource, event);
        const physicalResourceId = response.PhysicalResourceId
          || (event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId ?? '');
        checkResponseSize(event, physicalResourceId, response.Data, response.NoEcho);
        return response;
      } catch (e) {
        throw fail('onEvent', event, e);
      }
    },

    async isComplete(event: IsCompleteRequest<unknown>) {
      let resource: ResourceLifecycle<unknown>;
      try {
        resource = lifecycleOf(event);
      } catch (e) {
        throw fail('isComplete', event, e);
      }
      if (!resource.isComplete) {
        return { IsComplete: true };
      }
      log('info', 'event', { entryPoint: 'isComplete', ...describeEvent(event) });
      try {
        const response = await resource.isComplete(event);
        if (response.IsComplete) {
          // The framework answers with onEvent's Data merged with isComplete's.
          checkResponseSize(event, event.PhysicalResourceId, { ...event.Data, ...response.Data }, undefined);
        }
        return response;
      } catch (e) {
        throw fail('isComplete', event, e);
      }
    },
  };
}

async function dispatch(resource: ResourceLifecycle<unknown>, event: OnEventRequest<unknown>): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
      return resource.create(event);
    case 'Update':
      return resource.update(event);
    case 'Delete':
      return resource.delete(event);
    default:
      throw new Error(`unknown request type ${String(event.RequestType)}`);
  }
}

/**
 * Throws when the body the Provider framework would send CloudFormation for this response is over
 * {@link MAX_RESPONSE_BYTES}, naming the largest attributes, so the failure says what grew.
 */
export function checkResponseSize(
  event: Pick<OnEventRequest<unknown>, 'StackId' | 'RequestId' | 'LogicalResourceId' | 'ResourceType'>,
  physicalResourceId: string,
  data: Record<string, string> | undefined,
  noEcho: boolean | undefined,
): void {
  const body = JSON.stringify({
    Status: 'SUCCESS',
    Reason: 'SUCCESS',
    StackId: event.StackId,
    RequestId: event.RequestId,
    PhysicalResourceId: physicalResourceId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: noEcho,
    Data: data,
  });
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= MAX_RESPONSE_BYTES) {
    return;
  }
  const largest = Object.entries(data ?? {})
    .map(([key, value]) => ({ key, bytes: Buffer.byteLength(JSON.stringify(key) + JSON.stringify(value), 'utf8') }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((a) => `${a.key} (${a.bytes} bytes)`);
  throw new Error(
    `${String(event.ResourceType)} ${String(event.LogicalResourceId)}: the response would be ${bytes} bytes, over the ${MAX_RESPONSE_BYTES} bytes CloudFormation accepts`
    + (largest.length > 0 ? `; its largest attributes are ${largest.join(', ')}` : '')
    + '; shorten the inputs these attributes echo (e.g. fewer names), or report it as a bug of the handler');
}
