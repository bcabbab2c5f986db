import { NotFoundException, InvalidParameterException, PublishCommand } from '@aws-sdk/client-sns';
import { meta, operation, type AwsHost, type Operation } from './common';

export type { SnsMessage } from './common';

/** SNS Publish to the topics the stack made (the alarm topic, which the summaries reach too). */
export function snsOperations(host: AwsHost): Operation[] {
  return [
    operation(
      'Publish',
      PublishCommand,
      (input) => {
        const topic = input.TopicArn ? host.topics.get(input.TopicArn) : undefined;
        if (!topic) throw new NotFoundException({ message: 'Topic does not exist', $metadata: meta(404) });
        if (!input.Message)
          throw new InvalidParameterException({
            message: 'Invalid parameter: Empty message',
            $metadata: meta(400),
          });
        // SNS: a subject is ASCII, without line breaks, at most 100 characters.
        if (input.Subject !== undefined && (input.Subject.length > 100 || /[^\x20-\x7e]/.test(input.Subject)))
          throw new InvalidParameterException({
            message: 'Invalid parameter: Subject',
            $metadata: meta(400),
          });
        if (Buffer.byteLength(input.Message) > 262144)
          throw new InvalidParameterException({
            message: 'Invalid parameter: Message too long',
            $metadata: meta(400),
          });
        topic.push({ at: host.now(), ...(input.Subject ? { subject: input.Subject } : {}), message: input.Message });
        return { MessageId: host.rng.uuid() };
      },
      (input) => input.TopicArn ?? '',
    ),
  ];
}
