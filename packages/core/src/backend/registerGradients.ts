// Side-effect module: registers every gradient tfjs-core defines. See
// scripts/bundle-gradients.mjs for why this is a generated bundle.
import './tfjsGradients.generated.js';

/** Gradients are registered on import; this function exists so callers can name the step. */
export function ensureGradientsRegistered(): void {}
