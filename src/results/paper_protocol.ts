/**
 * The paper's settings, the one place they live in the code: docs/protocol.md (from
 * PROTOCOL.md) states them, and deviations.ts compares a result's resolved matrix spec against
 * this table to list what a result does differently. Each row names the PROTOCOL.md section it
 * comes from. A field is read from the spec by name, so a setting that a harness version does not
 * have (e.g. WaCo's `q` before it existed) is simply not compared.
 */

/** Where in a matrix spec a setting is read; each place is one item with an id (deviations.ts). */
export type Scope =
  /** Each adapter method's training, its own `training` merged over the matrix's. */
  | { in: "adapter_training" }
  /** Each adapter method with this loss: its `params`. */
  | { in: "loss_params"; loss: string }
  /** Each classifier. */
  | { in: "classifier" }
  /** The matrix's `evaluation`. */
  | { in: "evaluation" }
  /** Each augmentation of this kind. */
  | { in: "augmentation"; kind: string }
  /** Each dataset. */
  | { in: "dataset" }
  /** Each method of kind `none`: the kinds of the classifiers it is crossed with. */
  | { in: "no_adapter" };

export interface PaperSetting {
  /** The PROTOCOL.md section that states the value. */
  section: string;
  /** What the setting is, for the reader. */
  what: string;
  scope: Scope;
  /** Field name (dotted for nested fields) inside the scope's object. */
  field: string;
  /** The paper's value; null: the paper sets nothing here (a field present in the spec differs). */
  paper: unknown;
  /** The paper's value in words, when the bare value says too little. */
  paperText?: string;
  /** Compare by membership: the spec's value is a list that must contain `paper`. */
  contains?: true;
  /** Values that are the protocol's documented variants, by loss name: not deviations. */
  variants?: Readonly<Record<string, readonly unknown[]>>;
  /** How to write a value of the spec. */
  unit?: "view_pool" | "limit" | "classifier_kinds";
}

const NOTATION = "Notation and defaults";
const LOSSES = "Losses for the adapter";
const AUGMENTATIONS = "Augmentations (per-sample parameters)";

/**
 * The paper's loss parameters, keyed by loss name (tests/deviations_test.ts checks that every key
 * is a registered loss and every parameter one it takes): field, what, value, value in words.
 */
export const PAPER_LOSS_PARAMS: Readonly<Record<string, readonly [string, string, unknown, string?][]>> = {
  waco: [
    ["directions", "WaCo directions P", 1000],
    ["p", "WaCo order p", 2],
    // The exponent of the paper's code (issue 13); compared once the harness has the parameter.
    ["q", "WaCo dependence exponent q", 2],
  ],
  simclr: [["temperature", "SimCLR temperature τ", 0.5]],
  hsic: [["bandwidth", "HSIC bandwidth", null, "median heuristic"]],
  vicreg: [
    ["invariance", "VICReg invariance weight", 25],
    ["variance", "VICReg variance weight", 25],
    ["covariance", "VICReg covariance weight", 1],
  ],
};

export const PAPER_SETTINGS: readonly PaperSetting[] = [
  ...([
    ["epochs", "adapter epochs", 100],
    ["hidden", "adapter hidden width", 4096],
    ["batch", "batch (clean inputs per step)", 256],
    ["views", "augmented views per input s", 3],
    ["lr", "learning rate", 1e-3],
    ["lr_min", "minimum learning rate", 4e-4],
    ["weight_decay", "weight decay", 1e-4],
  ] as const).map(([field, what, paper]): PaperSetting => ({
    section: NOTATION,
    what,
    scope: { in: "adapter_training" },
    field,
    paper,
  })),
  {
    section: NOTATION,
    what: "adapter output width d′/d",
    scope: { in: "adapter_training" },
    field: "out_ratio",
    paper: 1,
    // d′ = d/4: the protocol's dimension-reducing WaCo.
    variants: { waco: [0.25] },
  },
  {
    section: NOTATION,
    what: "view regime",
    scope: { in: "adapter_training" },
    field: "view_pool",
    paper: "fresh",
    paperText: "fresh augmentation parameters for every view of every step",
    unit: "view_pool",
  },
  { section: NOTATION, what: "classifier epochs", scope: { in: "classifier" }, field: "epochs", paper: 50 },
  {
    section: NOTATION,
    what: "no-adapter classifier",
    scope: { in: "no_adapter" },
    field: "classifiers",
    paper: "ec",
    paperText: "EC, an MLP (d, 4096, 4096, k) on F",
    contains: true,
    unit: "classifier_kinds",
  },
  ...Object.entries(PAPER_LOSS_PARAMS).flatMap(([loss, params]) =>
    params.map(([field, what, paper, paperText]): PaperSetting => ({
      section: LOSSES,
      what,
      scope: { in: "loss_params", loss },
      field,
      paper,
      ...(paperText ? { paperText } : {}),
    }))
  ),
  {
    section: AUGMENTATIONS,
    what: "rotation range (°)",
    scope: { in: "augmentation", kind: "rotation" },
    field: "degrees",
    paper: [-180, 180],
  },
  ...([
    ["degrees", "affine rotation (°)", [-30, 30]],
    ["translate", "affine translation (fraction of size)", 0.2],
    ["scale", "affine scale", [0.8, 1.2]],
    ["shear", "affine shear (°)", [-15, 15]],
  ] as const).map(([field, what, paper]): PaperSetting => ({
    section: AUGMENTATIONS,
    what,
    scope: { in: "augmentation", kind: "affine" },
    field,
    paper,
  })),
  {
    section: AUGMENTATIONS,
    what: "noise σ (normalised units)",
    scope: { in: "augmentation", kind: "gaussian_noise" },
    field: "std",
    paper: 1,
  },
  {
    section: AUGMENTATIONS,
    what: "crop area",
    scope: { in: "augmentation", kind: "resized_crop" },
    field: "area",
    paper: [0.5, 0.7],
  },
  {
    section: AUGMENTATIONS,
    what: "crop aspect ratio",
    scope: { in: "augmentation", kind: "resized_crop" },
    field: "ratio",
    paper: [0.75, 1.33],
  },
  {
    section: "Metrics",
    what: "augmentation draws K of the test set",
    scope: { in: "evaluation" },
    field: "aug_draws",
    paper: 5,
  },
  {
    section: "Orientation: the paper's STL10 + DINO numbers",
    what: "train subset",
    scope: { in: "dataset" },
    field: "train.limit",
    paper: null,
    paperText: "the whole split",
    unit: "limit",
  },
  {
    section: "Orientation: the paper's STL10 + DINO numbers",
    what: "test subset",
    scope: { in: "dataset" },
    field: "test.limit",
    paper: null,
    paperText: "the whole split",
    unit: "limit",
  },
];
