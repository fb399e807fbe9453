import { writeFile } from 'node:fs/promises';
import { GraftError } from '@graft/core';
import { STARTER_CONFIG } from '../config/starterConfig';

/** `graft init [file]`: writes the commented starter config, never over an existing file. */
export async function runInit(path: string, force: boolean): Promise<string> {
  try {
    await writeFile(path, STARTER_CONFIG, { flag: force ? 'w' : 'wx' });
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new GraftError(
      exists ? 'RUN_DIR_EXISTS' : 'OUTPUT_UNWRITABLE',
      exists ? 'The file already exists' : 'Cannot write the config file',
      {
        where: path,
        hint: exists
          ? 'Pass --force to overwrite it, or choose another name.'
          : 'Check that the folder exists and is writable.',
        cause,
      },
    );
  }
  return path;
}
