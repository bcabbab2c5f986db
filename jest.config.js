/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // client-node 1.x and its auth dependencies ship ESM only; swc turns them into CommonJS for jest.
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  // Tests are bounded by virtual time; this only catches a hang, so a loaded 2-core machine never trips it.
  testTimeout: 600000,
  // Both cores of the 2-core CI machine: suites are bounded by virtual time, not by each other (246 s → 155 s here).
  maxWorkers: 2,
};
