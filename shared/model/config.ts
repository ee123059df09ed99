/**
 * GPT-2 model configuration. Field names follow Hugging Face's GPT2Config so a
 * config.json written from it loads in `transformers` as is.
 */
export interface GPTConfig {
  /** Tokens in the vocabulary (tokenizer's size). */
  vocab_size: number;
  /** Longest sequence the position table covers. */
  n_positions: number;
  /** Residual width C. */
  n_embd: number;
  /** Transformer blocks L. */
  n_layer: number;
  /** Attention heads; n_embd must divide by it. */
  n_head: number;
  /** LayerNorm epsilon (GPT-2: 1e-5). */
  layer_norm_epsilon: number;
}

/** Named size presets. */
export type PresetName = "tiny" | "demo" | "gpu25m";

const BYTE_VOCAB = 261; // 256 bytes + 5 special tokens, see shared/tokenizer

/**
 * Size presets: `tiny` trains in seconds in tests; `demo` (~1.9M params) is what the Worker serves;
 * `gpu25m` (~25M params) sizes the trainer on a GPU (bench:train, against PyTorch on the same card).
 */
export const PRESETS: Record<PresetName, GPTConfig> = {
  tiny: { vocab_size: BYTE_VOCAB, n_positions: 128, n_embd: 48, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5 },
  demo: { vocab_size: BYTE_VOCAB, n_positions: 256, n_embd: 192, n_layer: 4, n_head: 6, layer_norm_epsilon: 1e-5 },
  gpu25m: { vocab_size: BYTE_VOCAB, n_positions: 256, n_embd: 512, n_layer: 8, n_head: 8, layer_norm_epsilon: 1e-5 },
};

/** The preset by name, or an error listing the valid ones. */
export function preset(name: string): GPTConfig {
  if (!Object.hasOwn(PRESETS, name))
    throw new Error(`unknown model preset "${name}" (expected one of: ${Object.keys(PRESETS).join(", ")})`);
  return { ...PRESETS[name as PresetName] };
}

/** Throws a message naming the bad field when a config cannot describe a GPT-2 model. */
export function validateConfig(config: GPTConfig): GPTConfig {
  const fields: (keyof GPTConfig)[] = ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"];
  for (const f of fields) {
    const v = config[f];
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`model config: ${f} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (!(config.layer_norm_epsilon > 0))
    throw new Error(`model config: layer_norm_epsilon must be > 0, got ${config.layer_norm_epsilon}`);
  if (config.n_embd % config.n_head !== 0)
    throw new Error(`model config: n_embd ${config.n_embd} is not divisible by n_head ${config.n_head}`);
  return config;
}

/** Shape of every tensor the model owns, in Hugging Face GPT-2 names and layouts (Conv1D weights are [in, out]). */
export function tensorShapes(config: GPTConfig): Map<string, number[]> {
  const { vocab_size: V, n_positions: P, n_embd: C, n_layer: L } = config;
  const shapes = new Map<string, number[]>([
    ["wte.weight", [V, C]],
    ["wpe.weight", [P, C]],
  ]);
  for (let i = 0; i < L; i++) {
    const h = `h.${i}.`;
    shapes.set(h + "ln_1.weight", [C]);
    shapes.set(h + "ln_1.bias", [C]);
    shapes.set(h + "attn.c_attn.weight", [C, 3 * C]);
    shapes.set(h + "attn.c_attn.bias", [3 * C]);
    shapes.set(h + "attn.c_proj.weight", [C, C]);
    shapes.set(h + "attn.c_proj.bias", [C]);
    shapes.set(h + "ln_2.weight", [C]);
    shapes.set(h + "ln_2.bias", [C]);
    shapes.set(h + "mlp.c_fc.weight", [C, 4 * C]);
    shapes.set(h + "mlp.c_fc.bias", [4 * C]);
    shapes.set(h + "mlp.c_proj.weight", [4 * C, C]);
    shapes.set(h + "mlp.c_proj.bias", [C]);
  }
  shapes.set("ln_f.weight", [C]);
  shapes.set("ln_f.bias", [C]);
  return shapes;
}

/** Number of parameters (the LM head is tied to wte, so counted once). */
export function parameterCount(config: GPTConfig): number {
  let n = 0;
  for (const shape of tensorShapes(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** The config.json that `transformers`' GPT2LMHeadModel loads with our weights. */
export function huggingFaceConfig(config: GPTConfig): Record<string, unknown> {
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    ...config,
    n_ctx: config.n_positions,
    n_inner: null,
    activation_function: "gelu_new",
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    bos_token_id: 256,
    eos_token_id: 256,
  };
}
