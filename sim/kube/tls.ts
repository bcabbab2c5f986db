import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const CERTS = join(__dirname, 'certs');

/** The simulator's CA (kubeconfigs and EKS DescribeCluster carry it), and the API server's key pair it signed. */
export const SIM_CA_PEM = readFileSync(join(CERTS, 'ca.crt'), 'utf8');

export function serverKeyPair(): { key: Buffer; cert: Buffer } {
  return { key: readFileSync(join(CERTS, 'server.key')), cert: readFileSync(join(CERTS, 'server.crt')) };
}
