import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_POLICIES, runCompare, STUDY_NAMES, type StudyName } from './commands/compare';
import { runDemo } from './commands/demo';
import { type EvalSplit, runEval } from './commands/eval';
import { runInit } from './commands/init';
import { runInspect } from './commands/inspect';
import { formatPrediction, runPredict } from './commands/predict';
import { runPretrain } from './commands/pretrain';
import { MAX_REPLICAS, runTrain } from './commands/train';
import { createReporter } from './reporter';
import { EXIT_CODES } from './run/interrupts';

const EXIT_HELP = `
Exit codes:
  ${EXIT_CODES.ok}    done
  ${EXIT_CODES.error}    a mistake in the input or a failed run (one "graft: ..." line on stderr)
  ${EXIT_CODES.SIGINT}  train stopped by Ctrl-C after saving a checkpoint (continue with --resume)
  ${EXIT_CODES.SIGTERM}  train stopped by SIGTERM, likewise`;

const TRAIN_HELP = `
The run directory is written as it goes: checkpoint.bin after every epoch, and on Ctrl-C or
SIGTERM after the current step (a second Ctrl-C quits at once). \`graft train <config> --resume\`
continues from it and ends with the same metrics and weights as a run never stopped. A run that
fails removes the directory it created. An existing directory is never replaced without --force.

--replicas N trains data-parallel on N worker threads (one core each, single-threaded wasm):
every replica trains on its share of each batch and all apply the same averaged gradient, so
the result does not depend on timing. Batch norm normalises over each replica's rows ("ghost"
batch norm): keep batches of 16 or more. About 1.7x faster on 2 cores for MobileNetV2.
${EXIT_HELP}`;

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** `error: x\n(Did you mean y?)\n` -> `graft: x (did you mean y?)\n`. */
export function asGraftLine(text: string): string {
  const line = text
    .trim()
    .replace(/^error: /, 'graft: ')
    .replace(/\n\(Did you mean (.*)\)$/, ' (did you mean $1)');
  return `${line}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('graft')
    .description('Transfer and multi-task learning for vision networks, on WebAssembly')
    .version('0.0.0')
    .addHelpText('after', EXIT_HELP)
    .addHelpText(
      'after',
      '\nErrors are one line; add --verbose (or set GRAFT_DEBUG=1) for the stack and its causes.',
    )
    // Commander's own errors (a bad option value, an unknown command) read like graft's: one
    // line starting `graft:`. Set before the subcommands, which inherit it.
    .configureOutput({ outputError: (text, write) => write(asGraftLine(text)) });

  program
    .command('demo')
    .description(
      'the main job on embedded defaults: generated driving scenes, the shipped backbone, a freeze plan from the rule of thumb, one multi-task model, per-task test metrics next to chance; saves the model, metrics.json and report.html',
    )
    .option(
      '--scenes <n>',
      'generated scenes (70% train, 15% validation, 15% test)',
      positiveInt('scenes'),
      4800,
    )
    .option('--epochs <n>', 'training epochs', positiveInt('epochs'), 4)
    .option('--batch <n>', 'batch size', positiveInt('batch'), 32)
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--seed <n>', 'random seed', positiveInt('seed'), 1)
    .option(
      '--out <dir>',
      "run directory for the model, metrics.json and report.html (a previous demo's output there is replaced; any other existing folder is refused)",
      'runs/graft-demo',
    )
    .option('--json', 'print one JSON object per line instead of text')
    .option('--quiet', 'print only the final summary')
    .action(async (opts) => {
      const reporter = createReporter({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await runDemo(
        {
          scenes: opts.scenes,
          epochs: opts.epochs,
          batch: opts.batch,
          backend: opts.backend,
          seed: opts.seed,
          out: opts.out,
        },
        reporter,
      );
    });

  program
    .command('init')
    .description('write a commented starter config (trains on generated driving scenes as is)')
    .argument('[file]', 'where to write it', 'graft.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, opts) => {
      const path = await runInit(file, Boolean(opts.force));
      process.stdout.write(
        `wrote ${path}: edit data and tasks, then run \`graft train ${path}\`\n`,
      );
    });

  program
    .command('pretrain')
    .description(
      'task-A pre-training of the backbone graft ships (generated shapes); writes its weights module',
    )
    .option('--steps <n>', 'training steps', positiveInt('steps'), 3000)
    .option('--batch <n>', 'batch size', positiveInt('batch'), 32)
    .option('--size <n>', 'input height and width', positiveInt('size'), 64)
    .option('--alpha <x>', 'MobileNetV2 width multiplier', Number.parseFloat, 0.35)
    .option('--lr <x>', 'peak learning rate (Adam, cosine decay)', Number.parseFloat, 2e-3)
    .option('--seed <n>', 'random seed', positiveInt('seed'), 1)
    .option(
      '--eval-images <n>',
      'held-out images for the task-A accuracy',
      positiveInt('eval-images'),
      1024,
    )
    .option(
      '--emit <file>',
      'TypeScript module to write',
      'packages/core/src/pretrained/shippedBackbone.generated.ts',
    )
    .option('--json', 'print one JSON object per line instead of text')
    .option('--quiet', 'print only the final summary')
    .action(async (opts) => {
      const reporter = createReporter({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await runPretrain(
        {
          steps: opts.steps,
          batch: opts.batch,
          size: opts.size,
          alpha: opts.alpha,
          seed: opts.seed,
          learningRate: opts.lr,
          evalImages: opts.evalImages,
          emit: opts.emit,
        },
        reporter,
      );
    });

  program
    .command('train')
    .description(
      'train a (multi-task) model from a config file (JSON or YAML; `graft init` writes one) into a run directory',
    )
    .argument('<config>', 'config file')
    .option(
      '--set <key=value>',
      'override a config key, e.g. --set optimizer.learningRate=0.01 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--epochs <n>', 'override epochs', positiveInt('epochs'))
    .option('--batch <n>', 'override batchSize', positiveInt('batch'))
    .option('--seed <n>', 'override seed', positiveInt('seed'))
    .option('--output <dir>', 'override output (the run directory)')
    .option('--force', 'replace an existing run directory')
    .option(
      '--resume',
      'continue the interrupted run in the output directory from its checkpoint (same config and flags); ends as if never stopped',
    )
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option(
      '--replicas <n>',
      `train data-parallel on n worker threads, one core each (1 to ${MAX_REPLICAS}; default 1: no workers)`,
      (v: string): number => {
        const n = Number(v);
        if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
          throw new InvalidArgumentError(
            `--replicas must be a whole number from 1 to ${MAX_REPLICAS}`,
          );
        }
        return n;
      },
    )
    .option('--json', 'print one JSON object per line instead of text')
    .option('--quiet', 'print only the final summary')
    .addHelpText('after', TRAIN_HELP)
    .action(async (config: string, opts) => {
      const reporter = createReporter({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      const set: string[] = [...opts.set];
      if (opts.epochs !== undefined) set.push(`epochs=${opts.epochs}`);
      if (opts.batch !== undefined) set.push(`batchSize=${opts.batch}`);
      if (opts.seed !== undefined) set.push(`seed=${opts.seed}`);
      if (opts.output !== undefined) set.push(`output=${JSON.stringify(opts.output)}`);
      const result = await runTrain(
        {
          config,
          set,
          force: Boolean(opts.force),
          resume: Boolean(opts.resume),
          backend: opts.backend,
          ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
        },
        reporter,
      );
      if (result.stopped) process.exitCode = EXIT_CODES[result.stopped.signal];
    });

  program
    .command('compare')
    .description(
      "answers the source notes' questions on a config's data: transfer vs scratch at several training-set sizes, one multi-task network vs one per task, freeze policies side by side; prints tables and a verdict, writes compare.json and report.html",
    )
    .argument('<config>', 'config file (as for graft train)')
    .option(
      '--fractions <list>',
      'training-set fractions for transfer vs scratch (default: 0.25,0.5,1)',
      (v: string) => v.split(',').map(Number),
    )
    .option(
      '--policies <list>',
      `freeze policies to compare, as inspect --policy spells them; lastBlocks(2) works too (default: ${DEFAULT_POLICIES.join(',')})`,
      (v: string) => v.split(',').map((p) => p.trim()),
    )
    .option(
      '--studies <list>',
      `which studies (default: ${STUDY_NAMES.join(',')})`,
      (v: string) => {
        const names = v.split(',').map((s) => s.trim());
        for (const n of names) {
          if (!STUDY_NAMES.includes(n as StudyName)) {
            throw new InvalidArgumentError(`--studies takes ${STUDY_NAMES.join(', ')}`);
          }
        }
        return names as StudyName[];
      },
    )
    .option('--seeds <n>', 'seeds per configuration (mean and spread)', positiveInt('seeds'), 1)
    .option(
      '--min-delta <x>',
      'smallest metric difference the verdict calls an effect',
      (v: string) => {
        const x = Number(v);
        if (!(x >= 0)) throw new InvalidArgumentError('--min-delta must be a number >= 0');
        return x;
      },
      0.01,
    )
    .option(
      '--set <key=value>',
      'override a config key (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--epochs <n>', 'override epochs (every run)', positiveInt('epochs'))
    .option('--output <dir>', 'run directory (default: the config output + -compare)')
    .option('--force', 'replace an existing run directory')
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--json', 'print one JSON document (the content of compare.json) instead of text')
    .option('--quiet', 'print only the tables and the verdict')
    .action(async (config: string, opts) => {
      const json = Boolean(opts.json);
      const reporter = createReporter({ json, quiet: json || Boolean(opts.quiet) });
      const set: string[] = [...opts.set];
      if (opts.epochs !== undefined) set.push(`epochs=${opts.epochs}`);
      await runCompare(
        {
          config,
          set,
          fractions: opts.fractions ?? [0.25, 0.5, 1],
          policies: opts.policies ?? DEFAULT_POLICIES,
          seeds: opts.seeds,
          studies: opts.studies ?? STUDY_NAMES,
          ...(opts.output !== undefined ? { output: opts.output } : {}),
          force: Boolean(opts.force),
          backend: opts.backend,
          minDelta: opts.minDelta,
        },
        reporter,
      );
    });

  program
    .command('predict')
    .description(
      "per-task outputs of a trained model for images (multi-label decisions at the model's stored thresholds)",
    )
    .argument('<model-dir>', 'run directory (or model.json) written by graft train')
    .argument('<images...>', 'PNG or JPEG files')
    .option('--batch <n>', 'images per forward pass', positiveInt('batch'), 32)
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--json', 'print one JSON object per image')
    .action(async (model: string, images: string[], opts) => {
      const predictions = await runPredict({
        model,
        images,
        batch: opts.batch,
        backend: opts.backend,
      });
      for (const p of predictions) {
        process.stdout.write(`${opts.json ? JSON.stringify(p) : formatPrediction(p)}\n`);
      }
    });

  program
    .command('eval')
    .description(
      "per-task metrics of a trained model on labelled data (multi-label decisions at the model's stored thresholds)",
    )
    .argument('<model-dir>', 'run directory (or model.json) written by graft train')
    .argument(
      '<config-or-dataset>',
      'a train config (evaluates its --split, split as in training), a CSV / JSONL manifest, or an image folder',
    )
    .option('--split <name>', 'with a config: test, validation, train or all', 'test')
    .option('--batch <n>', 'batch size', positiveInt('batch'), 32)
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--json', 'print one JSON object per line instead of text')
    .option('--quiet', 'print only the final summary')
    .action(async (model: string, data: string, opts) => {
      if (!['test', 'validation', 'train', 'all'].includes(opts.split)) {
        throw new InvalidArgumentError('--split must be test, validation, train or all');
      }
      const reporter = createReporter({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await runEval(
        {
          model,
          data,
          split: opts.split as EvalSplit,
          batch: opts.batch,
          backend: opts.backend,
        },
        reporter,
      );
    });

  program
    .command('inspect')
    .description(
      'a model block by block (layers, parameter counts), its heads, and the freeze plan a policy would produce',
    )
    .argument('<model>', 'a TF.js model.json, a run directory, or `shipped`')
    .option(
      '--policy <name>',
      'ruleOfThumb, headsOnly, all, bnOnly, fineTune, discriminative, lastBlocks:N or gradual:N',
      'ruleOfThumb',
    )
    .option(
      '--labelled <n>',
      'labelled examples the rule of thumb decides from',
      positiveInt('labelled'),
      1000,
    )
    .option('--layers', 'list every layer too')
    .option('--json', 'print one JSON object instead of tables')
    .action(async (model: string, opts) => {
      const result = await runInspect({
        model,
        policy: opts.policy,
        labelled: opts.labelled,
        layers: Boolean(opts.layers),
      });
      const { text, ...data } = result;
      process.stdout.write(`${opts.json ? JSON.stringify(data) : text}\n`);
    });

  await program.parseAsync(argv);
}
