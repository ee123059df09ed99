import type { Child } from "hono/jsx";
import { DASHBOARD_BASE } from "../session.js";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b1f24;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:16px;margin:0;flex:1}
header a{color:#fff}
main{padding:16px 20px;display:grid;gap:16px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;overflow-x:auto}
h2{font-size:15px;margin:0 0 8px}
h3{font-size:13px;margin:12px 0 6px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:12px}
code{font-family:ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
code.version,.nowrap{white-space:nowrap}
table.metrics{width:auto;font-size:12px}
table.metrics th,table.metrics td{padding:1px 6px;border:0}
table.metrics td{white-space:nowrap}
table.metrics th{max-width:11em}
.delta-better{color:#1a7f37}.delta-worse{color:#b00020}.delta-same,.delta-neutral{color:#6a737d}
.state{padding:1px 6px;border-radius:8px;font-size:12px;background:#eef0f2;white-space:nowrap}
.state-confirmed,.state-claimed{background:#ffe8cc}.state-remediating{background:#dbe9ff}
.state-remediated,.state-succeeded{background:#d7f5dd}.state-ignored{background:#eee;color:#777}
.state-failed,.state-rejected{background:#ffd7d7}
.flash{background:#fff8c5;border:1px solid #e3c400;padding:8px 12px;border-radius:6px;margin:0}
.error{color:#b00020}
form.inline{display:inline}
form.grid{display:grid;grid-template-columns:max-content max-content 1fr;gap:4px 12px;align-items:center}
form.grid .hint{font-size:12px;color:#6a737d}
button{font:inherit;padding:2px 8px;cursor:pointer}
input,select{font:inherit}
.muted{color:#6a737d}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dl.facts dt{color:#57606a;font-size:12px}
dl.facts dd{margin:0}
`;

/**
 * Page frame. The one script is the dashboard's own live-refresh file (CSP script-src
 * 'self'; the page works without it); every model-generated string is JSX text (escaped).
 * `live` is the fragment URL the script polls for this page's live parts.
 */
export function Layout(props: { title: string; children: Child; header?: Child; live?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <style>{STYLE}</style>
        {props.live && <script src={`${DASHBOARD_BASE}/live.js`} defer></script>}
      </head>
      <body data-live={props.live}>
        <header>
          <h1>
            <a href={DASHBOARD_BASE}>sande-edge · guard dashboard</a>
          </h1>
          {props.header}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
