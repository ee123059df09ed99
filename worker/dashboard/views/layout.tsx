import type { Child } from "hono/jsx";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b1f24;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header h1{font-size:16px;margin:0;flex:1}
main{padding:16px 20px;display:grid;gap:16px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:12px}
code,.mono{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
.state{padding:1px 6px;border-radius:8px;font-size:12px;background:#eef0f2}
.state-confirmed,.state-claimed{background:#ffe8cc}.state-remediating{background:#dbe9ff}
.state-remediated,.state-succeeded{background:#d7f5dd}.state-ignored{background:#eee;color:#777}
.state-failed,.state-rejected{background:#ffd7d7}
.flash{background:#fff8c5;border:1px solid #e3c400;padding:8px 12px;border-radius:6px}
.error{color:#b00020}
form.inline{display:inline}
button{font:inherit;padding:2px 8px;cursor:pointer}
.muted{color:#6a737d}
`;

/** Page frame. No scripts at all; the CSP forbids them, and every model-generated string is JSX text (escaped). */
export function Layout(props: { title: string; children: Child; header?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <h1>sande-edge · guard dashboard</h1>
          {props.header}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
