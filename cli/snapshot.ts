import type { OperatorGroup } from '../lambdas/config';
import { CliError, type Clients, type Io, type NodeManagerStack } from './context';

export async function snapshot(
  _c: Clients,
  _stack: NodeManagerStack,
  g: OperatorGroup,
  _o: { readonly output?: string; readonly kubeconfig?: string; readonly context?: string },
  _io: Io,
): Promise<number> {
  throw new CliError(`snapshot of ${g.name}: not built yet`);
}
