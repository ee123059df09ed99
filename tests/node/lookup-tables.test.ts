import { describe, expect, it } from "vitest";
import { mergeSettings, SettingsError, settingsFromStored } from "../../shared/guard/index.js";
import { preset } from "../../shared/model/config.js";
import { DEFAULT_GUARD_SETTINGS } from "../../shared/protocol/guard.js";
import { readMetrics } from "../../worker/dashboard/metrics.js";

// Names every object inherits: a lookup table read with `in` or `table[name]` finds them.
const INHERITED = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];

describe("lookup tables ignore inherited names", () => {
  it("a guard setting named after an Object.prototype member is unknown, and the error names it", () => {
    for (const key of INHERITED) {
      const patch = JSON.parse(`{${JSON.stringify(key)}: 1}`) as unknown;
      expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, patch)).toThrow(SettingsError);
      expect(() => mergeSettings(DEFAULT_GUARD_SETTINGS, patch)).toThrow(`unknown guard setting "${key}"`);
    }
    expect(settingsFromStored(JSON.parse('{"toString": 1, "jobMinEvents": 40}'))).toEqual({
      ...DEFAULT_GUARD_SETTINGS,
      jobMinEvents: 40,
    });
  });

  it("a model preset named toString is unknown", () => {
    expect(() => preset("toString")).toThrow(/unknown model preset "toString"/);
    expect(preset("tiny").n_layer).toBe(2);
  });

  it("a trainer metric named constructor is labelled like any unknown metric", () => {
    const { singles } = readMetrics({ constructor: 3, toString: 1 });
    expect(singles).toEqual([
      { name: "constructor", value: 3, label: "Constructor", unit: "number" },
      { name: "toString", value: 1, label: "To string", unit: "number" },
    ]);
  });
});

describe("safetensors dtypes", () => {
  it("a tensor of dtype toString is refused as unsupported", async () => {
    const { decodeSafetensors, SafetensorsError } = await import("../../shared/safetensors/safetensors.js");
    const header = new TextEncoder().encode(
      JSON.stringify({ w: { dtype: "toString", shape: [1], data_offsets: [0, 4] } }),
    );
    const file = new Uint8Array(8 + header.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(header, 8);
    expect(() => decodeSafetensors(file)).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(file)).toThrow(/dtype "toString" is not supported/);
  });
});

describe("calibration counts", () => {
  it("counts answers named constructor or __proto__ like any other", async () => {
    const { tally } = await import("../../shared/guard/calibrate.js");
    const counts = tally(["constructor", "__proto__", "constructor", "yes", "tostring"]);
    expect(JSON.parse(JSON.stringify(counts))).toEqual(
      JSON.parse('{"constructor": 2, "__proto__": 1, "yes": 1, "tostring": 1}'),
    );
    expect(Object.getPrototypeOf(counts)).toBe(Object.prototype);
    expect(Object.values(counts).every((n) => Number.isInteger(n))).toBe(true);
  });
});
