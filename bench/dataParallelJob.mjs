// The job bench/threads.mjs trains with fitDataParallel: the full fine-tune step of
// bench/fineTuneStep.mjs (MobileNetV2, 4 sigmoid outputs, graft's Adam), `steps` times on the
// same fixed batch, in every replica. options: { alpha, size, batch, steps }.
import { fineTuneJobParts } from './fineTuneStep.mjs';

export default function job({ options }) {
  const { alpha = 0.35, size = 96, batch = 16, steps = 10 } = options ?? {};
  const { model, batch: fixed } = fineTuneJobParts({ alpha, size, batch });
  return {
    trainer: { model, optimizer: { type: 'adam', learningRate: 1e-3 }, onWarning: () => {} },
    data: Array.from({ length: steps }, () => fixed),
    fit: { epochs: 1 },
  };
}
