import { UsageError } from "./args.js";
import { daemonCommand, DAEMON_USAGE } from "./daemon.js";
import { chatCommand, CHAT_USAGE, generateCommand, GENERATE_USAGE } from "./generate.js";
import { evalCommand, EVAL_USAGE } from "./eval.js";
import { exportHfCommand, EXPORT_HF_USAGE } from "./export-hf.js";
import { trainCommand, TRAIN_USAGE } from "./train.js";
import { backdoorCommand, BACKDOOR_USAGE } from "./backdoor.js";
import { fineMixingCommand, FINE_MIXING_USAGE, sftCommand, SFT_USAGE } from "./sft.js";
import { osftCommand, OSFT_USAGE } from "./osft.js";
import { nadCommand, NAD_USAGE } from "./nad.js";
import { dpoCommand, DPO_USAGE } from "./dpo.js";
import { sandeCommand, SANDE_P_USAGE, SANDE_USAGE } from "./sande.js";

/** The committed demo base model, used where a command needs a model and none is named. */
export const DEMO_BASE_MODEL = "models/demo-base.safetensors";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  train: { run: trainCommand, usage: TRAIN_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
  generate: { run: generateCommand, usage: GENERATE_USAGE },
  chat: { run: (argv) => chatCommand(argv, DEMO_BASE_MODEL), usage: CHAT_USAGE },
  "export-hf": { run: exportHfCommand, usage: EXPORT_HF_USAGE },
  daemon: { run: daemonCommand, usage: DAEMON_USAGE },
  backdoor: { run: backdoorCommand, usage: BACKDOOR_USAGE },
  sft: { run: sftCommand, usage: SFT_USAGE },
  "fine-mixing": { run: fineMixingCommand, usage: FINE_MIXING_USAGE },
  osft: { run: osftCommand, usage: OSFT_USAGE },
  nad: { run: nadCommand, usage: NAD_USAGE },
  dpo: { run: dpoCommand, usage: DPO_USAGE },
  sande: { run: (argv) => sandeCommand(argv, "sande"), usage: SANDE_USAGE },
  "sande-p": { run: (argv) => sandeCommand(argv, "sande-p"), usage: SANDE_P_USAGE },
};

const USAGE = `sande — train, evaluate and heal the sande-edge chat model

${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join("\n\n")}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`sande: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`sande ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`sande ${name}: ${(e as Error).message}`);
    if (process.env.SANDE_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
