#!/usr/bin/env node
import { errorOutput, isVerbose, withoutVerbose } from './errorOutput';
import { main } from './main';
import { EXIT_CODES } from './run/interrupts';

const verbose = isVerbose(process.argv, process.env);
main(withoutVerbose(process.argv)).catch((e: unknown) => {
  console.error(errorOutput(e, { verbose }));
  process.exitCode = EXIT_CODES.error;
});
