/**
 * AWS SDK clients a function makes when it first needs them, not at cold start. Loading a client
 * package costs 0.1 to 0.5 s on a small machine (EC2's most); a step that never calls EC2, Step
 * Functions, EKS or Secrets Manager never pays for it. The ports take a client (tests) or a
 * function that makes one (the Lambda runtime, which requires the package inside it).
 */
export type ClientSource<C> = C | (() => C);

export function lazyClient<C extends object>(source: ClientSource<C>): () => C {
  let made: C | undefined;
  return () => (made ??= typeof source === 'function' ? (source as () => C)() : source);
}
