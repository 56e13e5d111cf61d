#!/usr/bin/env node
import { buildProgram } from './program.js';
import { RunInterrupted } from './run.js';

buildProgram()
  .parseAsync()
  .catch((error: unknown) => {
    process.stderr.write(`pure: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof RunInterrupted ? 130 : 1);
  });
