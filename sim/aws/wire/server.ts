import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonCodec } from '@aws-sdk/core/protocols';
import { NormalizedSchema } from '@smithy/core/schema';
import type { $Schema as Schema } from '@smithy/types';
import type { AwsDispatch } from '../install';
import type { Operation, Service } from '../common';
import { queryError, queryResponse, readQuery } from './query';

/** The JSON protocols' X-Amz-Target prefixes. */
const JSON_TARGETS: Readonly<Record<string, Service>> = {
  AWSStepFunctions: 'sfn',
  DynamoDB_20120810: 'dynamodb',
  secretsmanager: 'secretsmanager',
};

/** The Query services: their signing names, API versions and XML namespaces. */
const QUERY_SERVICES: ReadonlyArray<{ service: Service; signingName: string; version: string; ec2: boolean }> = [
  { service: 'autoscaling', signingName: 'autoscaling', version: '2011-01-01', ec2: false },
  { service: 'cloudformation', signingName: 'cloudformation', version: '2010-05-15', ec2: false },
  { service: 'ec2', signingName: 'ec2', version: '2016-11-15', ec2: true },
];

const xmlnsOf = (signingName: string, version: string) => `http://${signingName}.amazonaws.com/doc/${version}/`;

/** `[operation schema's input, output]`: the SDK command's own schema (`new Command({}).schema`). */
function schemasOf(op: Operation): { input: Schema; output: Schema } {
  const schema = (new op.command({} as never) as unknown as { schema: unknown[] }).schema;
  return { input: schema[4] as Schema, output: schema[5] as Schema };
}

/** What a service exception carries besides its own members (the SDK's bookkeeping, never on the wire). */
const NOT_MEMBERS = new Set(['name', 'message', '$metadata', '$fault', '$response', '$retryable', 'stack', 'cause']);

/** An error as thrown by an operation: a service exception (its name, message, status, members), or a bug (500). */
function errorOf(e: unknown): { code: string; message: string; status: number; fields: Record<string, unknown> } {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = err?.$metadata?.httpStatusCode;
  if (!status)
    return { code: 'InternalFailure', message: e instanceof Error ? e.message : String(e), status: 500, fields: {} };
  const fields = Object.fromEntries(Object.entries(err as object).filter(([k]) => !NOT_MEMBERS.has(k)));
  return { code: String(err.name), message: String(err.message), status, fields };
}

/**
 * The simulated AWS APIs over HTTP on 127.0.0.1, in their wire protocols: JSON with X-Amz-Target
 * (Step Functions, DynamoDB, Secrets Manager) and Query (Auto Scaling, CloudFormation, EC2),
 * dispatched by target, or by the request's signing scope and API version. Signatures are not
 * checked (any credentials do). Every call goes through the same dispatch as the in-process route.
 */
export class AwsWireServer {
  private server?: Server;
  private requests = 0;
  private readonly codec = new JsonCodec({ timestampFormat: { useTrait: true, default: 7 }, jsonName: false });

  constructor(
    private readonly dispatch: AwsDispatch,
    /** The service's clock (virtual time): the Date header, by which a client sees AWS's time. */
    private readonly now: () => number = Date.now,
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the AWS endpoint is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new Error(
                `the AWS endpoint cannot listen on 127.0.0.1:${port}: it is in use (another --serve?); choose another port`,
              )
            : e,
        ),
      );
      this.server!.listen(port, '127.0.0.1', resolve);
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const requestId = `sim-${String(++this.requests).padStart(8, '0')}`;
    const target = req.headers['x-amz-target'];
    try {
      if (typeof target === 'string') await this.json(target, body, requestId, res);
      else this.query(req, body, requestId, res);
    } catch (e) {
      const err = errorOf(e);
      this.send(res, err.status, 'text/plain', `${err.code}: ${err.message}`, requestId);
    }
  }

  private send(res: ServerResponse, status: number, type: string, body: string, requestId: string, more = {}): void {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
      date: new Date(this.now()).toUTCString(),
      ...more,
    });
    res.end(body);
  }

  private async json(target: string, body: string, requestId: string, res: ServerResponse): Promise<void> {
    const [prefix, action] = target.split('.');
    const service = JSON_TARGETS[prefix];
    const op = service ? this.dispatch.find(service, action) : undefined;
    const type = 'application/x-amz-json-1.0';
    const fail = (status: number, code: string, message: string, fields: Record<string, unknown> = {}) =>
      this.send(res, status, type, JSON.stringify({ __type: code, message, ...fields }), requestId, {
        'x-amzn-errortype': code,
      });
    if (!service || !op) {
      fail(400, 'UnknownOperationException', `the simulator does not serve ${target}`);
      return;
    }
    const { input, output } = schemasOf(op);
    try {
      const parsed = await this.codec.createDeserializer().read(input, body || '{}');
      const out = await this.dispatch.call(service, op, parsed);
      const serializer = this.codec.createSerializer();
      serializer.write(output, out ?? {});
      this.send(
        res,
        200,
        type,
        NormalizedSchema.of(output).isUnitSchema() ? '{}' : String(serializer.flush()),
        requestId,
      );
    } catch (e) {
      const err = errorOf(e);
      fail(err.status, err.code, err.message, err.fields);
    }
  }

  private query(req: IncomingMessage, body: string, requestId: string, res: ServerResponse): void {
    const params = new URLSearchParams(body || (req.url ?? '').split('?')[1] || '');
    const action = params.get('Action') ?? '';
    const version = params.get('Version') ?? '';
    // The signing scope names the service (`Credential=AKID/20261207/us-east-1/autoscaling/aws4_request`).
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const svc =
      QUERY_SERVICES.find((s) => s.signingName === scope) ?? QUERY_SERVICES.find((s) => s.version === version);
    const xml = 'text/xml';
    if (!svc) {
      this.send(
        res,
        400,
        xml,
        queryError('InvalidAction', `no service for ${scope ?? version}`, {
          ec2: false,
          xmlns: '',
          requestId,
          sender: true,
        }),
        requestId,
      );
      return;
    }
    const p = { ec2: svc.ec2, xmlns: xmlnsOf(svc.signingName, svc.version), requestId };
    const op = this.dispatch.find(svc.service, action);
    if (!op) {
      const message = `The action ${action} is not valid for this web service (the simulator does not serve it).`;
      this.send(res, 400, xml, queryError('InvalidAction', message, { ...p, sender: true }), requestId);
      return;
    }
    const { input, output } = schemasOf(op);
    try {
      const out = this.dispatch.call(svc.service, op, readQuery(input, params, svc.ec2));
      this.send(res, 200, xml, queryResponse(action, output, out, p), requestId);
    } catch (e) {
      const err = errorOf(e);
      this.send(res, err.status, xml, queryError(err.code, err.message, { ...p, sender: err.status < 500 }), requestId);
    }
  }
}
