#!/usr/bin/env node
import { main } from './main';

main(process.argv).catch((e: unknown) => {
  // GraftErrors carry a message written for people; anything else is a bug worth a stack.
  const err = e as { name?: string; message?: string; stack?: string };
  console.error(err?.name === 'GraftError' ? `graft: ${err.message}` : (err?.stack ?? String(e)));
  process.exitCode = 1;
});
