import { CfnResource, RemovalPolicy, TagManager, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CertificateInputError } from './errors';
import { HandlerProvider, HandlerProviderProps } from './provider';
import { TagRules, tagProblems } from '../contract/tags';

/**
 * The removal policy of a stateful construct (a certificate, a CA, what they own), decided once
 * for every family: SNAPSHOT is refused; RETAIN and RETAIN_ON_UPDATE_OR_DELETE keep the resource
 * (the handler is told 'retain'); DESTROY deletes it. `removalPolicy` is what CloudFormation gets:
 * the chosen policy itself, as aws-cdk-lib renders it (RETAIN_ON_UPDATE_OR_DELETE stays
 * RetainExceptOnCreate, so a failed first deploy still cleans up).
 */
export interface StatefulRemovalPolicy {
  readonly removalPolicy: RemovalPolicy;
  readonly handler: 'retain' | 'destroy';
}

/** Maps a construct's `removalPolicy` prop (or its default) to {@link StatefulRemovalPolicy}. */
export function statefulRemovalPolicy(
  scope: Construct,
  policy: RemovalPolicy | undefined,
  fallback: RemovalPolicy = RemovalPolicy.DESTROY,
): StatefulRemovalPolicy {
  const chosen = policy ?? fallback;
  if (chosen === RemovalPolicy.SNAPSHOT) {
    throw new CertificateInputError('removalPolicy',
      'SNAPSHOT does not apply to a certificate or a certificate authority (there is nothing to snapshot); use DESTROY or RETAIN', scope);
  }
  const retain = chosen === RemovalPolicy.RETAIN || chosen === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
  return { removalPolicy: chosen, handler: retain ? 'retain' : 'destroy' };
}

/** The stack's provider of a handler kind (one per stack and kind), for a construct's grants and bindings. */
export function handlerProvider(scope: Construct, props: HandlerProviderProps): HandlerProvider {
  return HandlerProvider.getOrCreate(scope, props);
}

/**
 * Checks the tags a resource ends up with (`Tags.of()` included) against the service's rules when
 * the app is validated; tags that are tokens are left to the service.
 */
export function validateTags(scope: Construct, tags: TagManager, rules: TagRules): void {
  scope.node.addValidation({
    validate: () => {
      // KEY_VALUE tags render as { Key, Value }, STANDARD ones (native resources) as { key, value }.
      const rendered = (tags.renderTags() ?? []) as Array<{ Key?: string; Value?: string; key?: string; value?: string }>;
      const known = rendered
        .map((tag) => ({ Key: tag.Key ?? tag.key ?? '', Value: tag.Value ?? tag.value ?? '' }))
        .filter((tag) => !Token.isUnresolved(tag.Key) && !Token.isUnresolved(tag.Value));
      return tagProblems(rules, known).map((problem) => `tags: ${problem}`);
    },
  });
}

/** The names of an attributes interface, without its index signature (e.g. expiry notice times). */
export type AttributeName<A> = keyof {
  [K in keyof A as string extends K ? never : number extends K ? never : K]: A[K]
} & string;

export interface HandlerResourceProps<P extends object> {
  /** The custom resource type, `Custom::...`. */
  readonly resourceType: string;
  /** The provider that serves it (from {@link handlerProvider}). */
  readonly provider: HandlerProvider;
  /** The handler properties known when the construct is created. */
  readonly properties: P;
  /** From {@link statefulRemovalPolicy}. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: StatefulRemovalPolicy;
  /**
   * The owner's tags, rendered as the `Tags` property (key/value list) when the template is
   * written, so that `Tags.of()` applied later in the app still reaches the handler.
   * @default - no Tags property
   */
  readonly tags?: TagManager;
  /**
   * The service's tag rules, checked on the rendered tags when the app is validated (every
   * problem reported against `tagsScope`).
   * @default - not checked
   */
  readonly tagRules?: TagRules;
  /** Where tag problems are reported. @default the resource's parent */
  readonly tagsScope?: Construct;
  /**
   * Properties that only settle once the app's code has run (e.g. expiry notice day counts),
   * rendered when the template is written. An undefined value leaves the property out.
   * @default - none
   */
  readonly renderProperties?: () => Partial<P>;
  /**
   * Whether the resource waits for the provider's role and the policy that holds its grants (and
   * is deleted before them). Off only where every grant is a shared statement added with this
   * resource as its dependent (grants.ts), which depends on the exact policy instead.
   * @default true
   */
  readonly dependOnGrants?: boolean;
}

/**
 * The construct side of a handler's custom resource, in one place: the provider's service token,
 * the removal policy, the tags (rendered late, checked against the service's rules), the
 * dependency on the policy that holds the handler's grants, and typed attributes keyed by the
 * family's `XxxResourceAttributes`.
 *
 * It is a plain `CfnResource` rather than `CustomResource`: late properties are rendered by the
 * resource itself rather than through `Lazy` tokens, and attributes are plain `getAtt` references;
 * every token is resolved several times during synthesis, so both lower the synth cost of each
 * certificate (see `npm run bench`).
 */
export class HandlerResource<P extends object, A extends object = Record<string, string>> extends CfnResource {
  private readonly tagManager?: TagManager;
  private readonly renderLate?: () => Partial<P>;

  constructor(scope: Construct, id: string, props: HandlerResourceProps<P>) {
    super(scope, id, {
      type: props.resourceType,
      properties: { ServiceToken: props.provider.serviceToken, ...props.properties },
    });
    this.applyRemovalPolicy(props.removalPolicy?.removalPolicy, { default: RemovalPolicy.DESTROY });
    this.tagManager = props.tags;
    this.renderLate = props.renderProperties;
    if (props.dependOnGrants !== false) {
      // The role's policy must exist before the handler runs (and outlive it on delete).
      this.node.addDependency(props.provider.role);
    }
    if (props.tagRules && props.tags) {
      validateTags(props.tagsScope ?? scope, props.tags, props.tagRules);
    }
  }

  /** An attribute of the handler's response Data, by its name in the family's contract. */
  public attr(name: AttributeName<A>): string {
    return Token.asString(this.getAtt(name));
  }

  /** A numeric attribute (the handler returns it as a string; CloudFormation passes it on as is). */
  public attrNumber(name: AttributeName<A>): number {
    return Token.asNumber(this.getAtt(name));
  }

  /**
   * An attribute whose name the handler makes up (expiry notice times, validation records), which
   * the contract types only as an index signature.
   */
  public dynamicAttr(name: string): string {
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
