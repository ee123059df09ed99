import { CONTAINMENTS } from "../../../shared/guard/index.js";
import { HEAL_POLICY_MODES, type GuardSettings } from "../../../shared/protocol/guard.js";
import { SETTING_HINTS, WAS_PREFIX } from "../form.js";
import { PostForm } from "./forms.js";

type SettingName = keyof GuardSettings;

const CHOICES: Partial<Record<SettingName, readonly string[]>> = {
  defaultContainment: CONTAINMENTS,
  failMode: ["open", "closed"],
  healPolicy: HEAL_POLICY_MODES,
  storeExcerpts: ["true", "false"],
};

/** The input for one setting: a select for choices, a number field for numbers, text otherwise. */
function SettingInput(props: { name: SettingName; value: string | number | boolean }) {
  const { name } = props;
  const value = String(props.value);
  const choices = CHOICES[name];
  if (choices)
    return (
      <select name={name} id={`setting-${name}`}>
        {choices.map((c) => (
          <option value={c} selected={c === value}>
            {c}
          </option>
        ))}
      </select>
    );
  if (typeof props.value === "number")
    return <input type="number" step="any" name={name} id={`setting-${name}`} value={value} required />;
  return <input type="text" name={name} id={`setting-${name}`} value={value} size={60} />;
}

/**
 * Guard settings as one form. Each field carries the value it showed (`was.<name>`), so
 * only what the operator changed is sent on; the server validates it exactly as
 * PATCH /admin/api/settings does.
 */
export function SettingsSection(props: { settings: GuardSettings }) {
  const entries = Object.entries(props.settings) as [SettingName, GuardSettings[SettingName]][];
  return (
    <section id="settings">
      <h2>Guard settings</h2>
      <PostForm to="/settings" class="grid" id="settings-form">
        {entries.map(([name, value]) => (
          <>
            <label for={`setting-${name}`}>
              <code>{name}</code>
            </label>
            <span>
              <SettingInput name={name} value={value} />
              <input type="hidden" name={`${WAS_PREFIX}${name}`} value={String(value)} />
            </span>
            <span class="hint">{SETTING_HINTS[name]}</span>
          </>
        ))}
        <span></span>
        <span>
          <button type="submit">Save settings</button>
        </span>
        <span class="hint">Takes effect at once here; other isolates follow within cacheSeconds.</span>
      </PostForm>
    </section>
  );
}
