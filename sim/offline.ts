/**
 * The environment every local entry point (simulate, chaos, bench) runs the real SDK clients in:
 * credentials the simulated STS knows, a region, and an endpoint on a closed local port, so that
 * nothing can reach a real AWS endpoint even if a client escaped the simulator.
 */
export function offlineEnvironment(): void {
  process.env.AWS_REGION ??= 'ap-northeast-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIASIMULATOR0000000';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'simulator-secret-key';
  // The suite and the local runner run on this machine's Node 20 on purpose; Lambda runs 22 or newer.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
}
