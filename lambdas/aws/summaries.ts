import type { SNSClient } from '@aws-sdk/client-sns';
import { lazyClient, sdk, type ClientSource } from './lazy';

/**
 * The summaries people read (core/summaries.ts), published to the stack's topic (the alarms'
 * one). Best effort: a summary that cannot be published is said in the step's output, and the
 * step goes on; nothing a workflow does waits on it.
 */
export class SummaryPort {
  private readonly client: () => SNSClient;

  constructor(
    source: ClientSource<SNSClient>,
    private readonly topicArn: string | undefined,
  ) {
    this.client = lazyClient(source);
  }

  /** Publishes; says what happened ('sent', 'off' when the stack sends none, or the error). */
  async publish(subject: string, message: string): Promise<string> {
    if (!this.topicArn) return 'off';
    try {
      const { PublishCommand } = sdk.sns();
      // SNS takes an ASCII subject of at most 100 characters.
      const safe = subject.replace(/[^\x20-\x7e]/g, '-').slice(0, 100);
      await this.client().send(new PublishCommand({ TopicArn: this.topicArn, Subject: safe, Message: message }));
      return 'sent';
    } catch (e) {
      return `not sent: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
  }
}
