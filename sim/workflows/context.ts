import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** One Lambda invocation of a workflow step, as the runner performs it. */
export interface Invocation {
  readonly execution: string;
  readonly state: string;
  /** AWS and Kubernetes calls this invocation made (for its billed duration). */
  calls: number;
  /** The execution (its ARN) whose step this is: a sleep inside the step sleeps it on virtual time. */
  readonly owner?: string;
  /** Milliseconds the step slept inside the invocation (billed). */
  sleptMs?: number;
}

/**
 * Which invocation made a call. AWS SDK calls are answered in the caller's own async context; the
 * API server answers on its own sockets, so each client socket's local port is mapped to the
 * invocation that wrote the request (published by Node's `http.client.request.start` channel
 * before the request's bytes leave), and the server looks the remote port up. Concurrent
 * executions therefore never share a bill or an audit line.
 */
export class InvocationContext {
  private readonly als = new AsyncLocalStorage<Invocation>();
  private readonly byPort = new Map<number, Invocation>();
  private readonly onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const inv = this.als.getStore();
    const socket = request.socket;
    if (!inv || !socket) return;
    if (socket.localPort) this.byPort.set(socket.localPort, inv);
    else socket.once('connect', () => socket.localPort && this.byPort.set(socket.localPort, inv));
  };

  install(): void {
    subscribe('http.client.request.start', this.onRequest);
  }

  uninstall(): void {
    unsubscribe('http.client.request.start', this.onRequest);
    this.byPort.clear();
  }

  run<T>(inv: Invocation, fn: () => Promise<T>): Promise<T> {
    return this.als.run(inv, fn);
  }

  /** The invocation in whose async context we are (an AWS call). */
  current(): Invocation | undefined {
    return this.als.getStore();
  }

  /** The invocation that sent a request arriving from this client port (a Kubernetes call). */
  ofPort(port: number | undefined): Invocation | undefined {
    return port === undefined ? undefined : this.byPort.get(port);
  }
}
