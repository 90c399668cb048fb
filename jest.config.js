// Jest only transpiles (swc); `npm run typecheck` type-checks once with tsc.
// The @pulumi/aws typings are too large to check per test file.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  testTimeout: 60000,
  // Jest's default is one worker per core minus one: a single worker on a 2-core machine. Much of
  // a test file's time is spent waiting on cfn-lint and cfn-guard child processes, so two workers
  // keep both cores busy (about 80 s -> 47 s for the suite here).
  maxWorkers: Math.max(2, require('os').cpus().length - 1),
};
