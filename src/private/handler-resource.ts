import { CfnResource, RemovalPolicy, TagManager, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface HandlerResourceProps<P extends object> {
  /** The custom resource type, `Custom::...`. */
  readonly resourceType: string;
  /** The provider's service token. */
  readonly serviceToken: string;
  /** The handler properties known when the construct is created. */
  readonly properties: P;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The owner's tags, rendered as the `Tags` property (key/value list) when the template is
   * written, so that `Tags.of()` applied later in the app still reaches the handler.
   * @default - no Tags property
   */
  readonly tags?: TagManager;
  /**
   * Properties that only settle once the app's code has run (e.g. expiry notice day counts),
   * rendered when the template is written. An undefined value leaves the property out.
   * @default - none
   */
  readonly renderProperties?: () => Partial<P>;
}

/**
 * The custom resource of a handler: what `CustomResource` renders, as a plain `CfnResource`.
 *
 * Late properties are rendered by the resource itself rather than through `Lazy` tokens, and
 * attributes are plain `getAtt` references: every token is resolved several times during
 * synthesis, so both lower the synth cost of each certificate (see `npm run bench`).
 */
export class HandlerResource<P extends object> extends CfnResource {
  private readonly tagManager?: TagManager;
  private readonly renderLate?: () => Partial<P>;

  constructor(scope: Construct, id: string, props: HandlerResourceProps<P>) {
    super(scope, id, {
      type: props.resourceType,
      properties: { ServiceToken: props.serviceToken, ...props.properties },
    });
    this.applyRemovalPolicy(props.removalPolicy, { default: RemovalPolicy.DESTROY });
    this.tagManager = props.tags;
    this.renderLate = props.renderProperties;
  }

  /** The attribute `name` of the handler's response Data, as a string. */
  public getAttString(name: string): string {
    return Token.asString(this.getAtt(name));
  }

  protected get cfnProperties(): { [key: string]: any } {
    const late: { [key: string]: any } = { ...this.renderLate?.() };
    const tags = this.tagManager?.renderTags();
    if (Array.isArray(tags) && tags.length > 0) {
      late.Tags = tags;
    }
    return Object.keys(late).length === 0 ? super.cfnProperties : { ...super.cfnProperties, ...late };
  }
}
