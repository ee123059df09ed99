import { join } from "node:path";
import { huggingFaceConfig } from "../../shared/model/config.js";
import { encodeSafetensors } from "../../shared/safetensors/safetensors.js";
import { readModelFile, writeFileAtomic } from "../io/model-file.js";
import { parseCommand, UsageError } from "./args.js";

export const EXPORT_HF_USAGE = `sande export-hf MODEL DIR   write DIR/config.json + DIR/model.safetensors for transformers' GPT2LMHeadModel`;

/** `sande export-hf`: the model as a Hugging Face GPT-2 checkpoint folder. */
export async function exportHfCommand(argv: string[]): Promise<void> {
  const { positionals } = parseCommand(argv, {}, 2);
  const [path, dir] = positionals;
  if (!path || !dir) throw new UsageError("MODEL and DIR are required");
  const model = await readModelFile(path);
  await writeFileAtomic(join(dir, "config.json"), JSON.stringify(huggingFaceConfig(model.config), null, 2) + "\n");
  await writeFileAtomic(join(dir, "model.safetensors"), encodeSafetensors(model.weights, { format: "pt" }));
  console.log(
    `wrote ${dir}/config.json and ${dir}/model.safetensors — load with GPT2LMHeadModel.from_pretrained("${dir}")`,
  );
}
