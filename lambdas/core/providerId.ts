/** `aws:///<az>/<instance-id>` as kubelet's AWS cloud provider sets `spec.providerID`. */
const PROVIDER_ID = /^aws:\/\/\/([a-z0-9-]+)\/(i-[0-9a-f]+)$/;

export interface ProviderRef {
  readonly zone: string;
  readonly instanceId: string;
}

export function parseProviderId(providerID: string | undefined): ProviderRef | undefined {
  if (!providerID) return undefined;
  const m = PROVIDER_ID.exec(providerID);
  return m ? { zone: m[1], instanceId: m[2] } : undefined;
}

export function formatProviderId(zone: string, instanceId: string): string {
  return `aws:///${zone}/${instanceId}`;
}
