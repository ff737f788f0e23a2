/**
 * The request and response shapes of the custom_resources.Provider framework's user handlers.
 * CloudFormation hands every property value over as a string.
 */
export type RequestType = 'Create' | 'Update' | 'Delete';

export interface OnEventRequest<P> {
  readonly RequestType: RequestType;
  readonly RequestId: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: P & { readonly ServiceToken: string };
  /** Present on Update only. */
  readonly OldResourceProperties?: P & { readonly ServiceToken: string };
}

export interface OnEventResponse {
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, string>;
  readonly NoEcho?: boolean;
}

export interface IsCompleteRequest<P> extends OnEventRequest<P> {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}
