#!/usr/bin/env node
// The package's `node-manager` command: runs bin/cli.ts through tsx (a clone installs it with npm ci).
/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- a CommonJS launcher */
require('tsx/cjs');
require('./cli.ts');
