/**
 * What `graft init` writes: a commented config that validates as is and trains on generated
 * driving scenes, so a user can run it first and then point `data` at their own files.
 */
export const STARTER_CONFIG = `# graft train config (YAML; JSON works too). Every key below is optional except
# data and tasks; the values shown are the defaults unless marked "example".
seed: 1
output: runs/my-first-run        # refused if it exists, unless --force

data:
  # Generated driving scenes: no download. For your own images use a manifest:
  #   adapter: manifest
  #   path: data/labels.csv        # CSV or JSONL; image paths relative to it
  #   imageColumn: image
  #   missing: ["", "?", "NA", "null"]
  #   skipInvalid: false           # true: leave out unreadable images (found before training)
  # or one sub-folder per class:  { adapter: imageFolder, path: data/images }
  # or MNIST files:               { adapter: idx, images: train-images-idx3-ubyte, labels: train-labels-idx1-ubyte }
  adapter: drivingScenes
  count: 1200
  size: 64
  missing: 0.2                   # example: blank 20% of labels as "?"

split: { validation: 0.15, test: 0.15 }   # stratified, by seed

backbone:
  source: shipped                # shipped | mobilenetv2 (random init) | path or URL to a TF.js model.json
  alpha: 0.35
  inputSize: 64
  # cutAt: out_relu              # keep the graph up to this layer

tasks:                           # example: the driving-scenes tasks
  presence:
    kind: multiLabel             # one sigmoid per label: several can be on at once
    labels: [pedestrian, car, stopSign, trafficLight]
  lightColour:
    kind: classification         # softmax over classes
    classes: [red, yellow, green]
  carCount:
    kind: regression
    outputs: 1
    loss: huber
    head: { hidden: [64], dropout: 0.1 }   # a small MLP instead of a linear head

freeze: ruleOfThumb              # or headsOnly | all | bnOnly | fineTune | { policy: lastBlocks, n: 2 }
weighting: equal                 # or uncertainty | dwa | gradnorm | pcgrad | { strategy: static, weights: {...} }

optimizer: { name: adam, learningRate: 0.001, weightDecay: 0 }
schedule: { name: cosine, warmupEpochs: 0 }
epochs: 10
batchSize: 32
augment: { flip: false, crop: 0, colourJitter: 0 }
`;
