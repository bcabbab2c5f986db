// Tests never reach AWS: make sure no ambient profile or region leaks in from the machine.
process.env.AWS_REGION ??= 'ap-northeast-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIASIMULATOR0000000';
process.env.AWS_SECRET_ACCESS_KEY ??= 'simulator-secret-key';
// The suite runs on this machine's Node 20 on purpose; the Lambda runtime is Node 22 or newer.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Any SDK call that a test forgot to route to the simulator or a mock fails fast on a closed local port.
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
process.env.AWS_MAX_ATTEMPTS = '1';
