/**
 * AWS SDK clients a function makes when it first needs them, not at cold start. Loading a client
 * package costs 0.1 to 0.5 s on a small machine (EC2's most); a step that never calls EC2, Step
 * Functions, EKS or Secrets Manager never pays for it. The ports take a client (tests) or a
 * function that makes one (the Lambda runtime, which loads the package through {@link sdk}).
 */
export type ClientSource<C> = C | (() => C);

export function lazyClient<C extends object>(source: ClientSource<C>): () => C {
  let made: C | undefined;
  return () => (made ??= typeof source === 'function' ? (source as () => C)() : source);
}

/* eslint-disable @typescript-eslint/no-require-imports -- the one place SDK packages load late, on first use */
/** The SDK packages a step may not need, each loaded (once, by Node's cache) when first asked for. */
export const sdk = {
  ec2: () => require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2'),
  sfn: () => require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn'),
  eks: () => require('@aws-sdk/client-eks') as typeof import('@aws-sdk/client-eks'),
  sns: () => require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns'),
  secrets: () => require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
  credentials: () => require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node'),
};
/* eslint-enable @typescript-eslint/no-require-imports */
