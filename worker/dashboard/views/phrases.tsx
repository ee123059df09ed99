import type { PhraseRow } from "../../db/phrases.js";
import { ActionButton, PostForm } from "./forms.js";
import { Time } from "./format.js";
import { Table, type Column } from "./table.js";

/** Score and on/off of one rule, saved together. */
function PhraseEdit(props: { phrase: PhraseRow }) {
  const p = props.phrase;
  return (
    <PostForm to={`/phrases/${p.id}`}>
      <input type="number" step="any" name="score" value={String(p.score)} aria-label="score" style="width:5em" />{" "}
      <select name="enabled" aria-label="enabled">
        <option value="true" selected={p.enabled}>
          on
        </option>
        <option value="false" selected={!p.enabled}>
          off
        </option>
      </select>{" "}
      <button type="submit">Save</button>
    </PostForm>
  );
}

const PHRASE_COLUMNS: Column<PhraseRow>[] = [
  { header: "List", cell: (p) => p.list },
  { header: "Kind", cell: (p) => p.kind },
  { header: "Pattern", cell: (p) => <code class="phrase-pattern">{p.pattern}</code> },
  { header: "Score · on", cell: (p) => <PhraseEdit phrase={p} /> },
  { header: "Note", cell: (p) => p.note ?? "" },
  { header: "Added", cell: (p) => <Time ms={p.createdAt} /> },
  { header: "", cell: (p) => <ActionButton to={`/phrases/${p.id}/delete`} label="Delete" /> },
];

/** The form that adds a rule (checked as POST /admin/api/phrases checks it). */
function AddPhraseForm() {
  return (
    <PostForm to="/phrases" id="add-phrase">
      <input type="text" name="pattern" placeholder="phrase or regex" aria-label="pattern" required size={30} />{" "}
      <select name="kind" aria-label="kind">
        <option value="phrase">phrase</option>
        <option value="regex">regex</option>
      </select>{" "}
      <input type="text" name="list" placeholder="list (default)" aria-label="list" size={12} />{" "}
      <input type="number" step="any" name="score" placeholder="score (1)" aria-label="score" style="width:6em" />{" "}
      <input type="text" name="note" placeholder="note" aria-label="note" size={20} />{" "}
      <button type="submit">Add rule</button>
    </PostForm>
  );
}

/** Operator phrase and regex rules (detector 1): edit, delete, add. The list is a live part (not refreshed while edited). */
export function PhrasesSection(props: { phrases: PhraseRow[] }) {
  const on = props.phrases.filter((p) => p.enabled).length;
  return (
    <section id="phrases">
      <h2>
        Phrase rules{" "}
        <span class="muted">
          ({on} enabled of {props.phrases.length})
        </span>
      </h2>
      <div id="phrase-list" data-live-part="">
        <Table
          columns={PHRASE_COLUMNS}
          rows={props.phrases}
          empty="No rules: only recurrence and confidence flag responses."
          rowAttributes={(p) => ({ "data-phrase-id": String(p.id) })}
        />
      </div>
      <h3>Add a rule</h3>
      <AddPhraseForm />
    </section>
  );
}
