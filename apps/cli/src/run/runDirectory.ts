import { appendFileSync } from 'node:fs';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '@graft/core';

/**
 * A run's output folder: the model, metrics.json, the config actually used, a log and
 * report.html. Files are written to a temporary name and renamed, so an interrupted run never
 * leaves a half-written file under a final name; an existing run is never overwritten unless
 * the user says `--force`.
 */
export interface RunDirectory {
  readonly path: string;
  /** Writes `name` atomically (temp file + rename). */
  write(name: string, content: string | Uint8Array): Promise<string>;
  writeJson(name: string, value: unknown): Promise<string>;
  /** Appends a line to run.log (synchronously, so the log survives a crash). */
  log(line: string): void;
}

export async function createRunDirectory(
  path: string,
  options: { force: boolean },
): Promise<RunDirectory> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists && !options.force) {
    throw new GraftError('RUN_DIR_EXISTS', 'The run directory already exists', {
      where: path,
      hint: 'Choose another output, or pass --force to replace it.',
    });
  }
  try {
    if (exists) await rm(path, { recursive: true, force: true });
    await mkdir(path, { recursive: true });
    await access(path, 2 /* W_OK */);
  } catch (cause) {
    throw new GraftError('OUTPUT_UNWRITABLE', 'Cannot create the run directory', {
      where: path,
      hint: 'Check the permissions of its parent folder, or choose another output.',
      cause,
    });
  }
  const logPath = join(path, 'run.log');
  const write = async (name: string, content: string | Uint8Array) => {
    const target = join(path, name);
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, content);
      await rename(tmp, target);
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new GraftError('OUTPUT_UNWRITABLE', `Cannot write ${name}`, { where: target, cause });
    }
    return target;
  };
  return {
    path,
    write,
    writeJson: (name, value) => write(name, `${JSON.stringify(value, null, 2)}\n`),
    log: (line) => appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`),
  };
}
