import * as tf from '@tensorflow/tfjs-core';
import packageJson from '../../package.json';

/** Versions recorded in graft.json, so a saved model says what made it. */
export function graftVersions(): { graft: string; tfjs: string } {
  return { graft: packageJson.version, tfjs: tf.version_core };
}
