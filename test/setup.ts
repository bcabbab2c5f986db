// Tests never reach AWS: make sure no ambient profile or region leaks in from the machine.
process.env.AWS_REGION ??= 'ap-northeast-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIASIMULATOR0000000';
process.env.AWS_SECRET_ACCESS_KEY ??= 'simulator-secret-key';
