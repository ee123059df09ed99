/**
 * The signed-in pages. Each page's body is one component that the page and its live
 * fragment (polled by live.js, which swaps the elements marked data-live-part) both render.
 */
import type { Child } from "hono/jsx";
import type { OverviewData, PrefixData } from "../data.js";
import type { ServingInfo } from "../serving.js";
import { DASHBOARD_BASE } from "../session.js";
import { CsrfToken } from "./forms.js";
import { Flash, ServingBadge, SignedInHeader } from "./header.js";
import { JobsSection } from "./jobs.js";
import { Layout } from "./layout.js";
import { PhrasesSection } from "./phrases.js";
import { BackLink, PrefixParts } from "./prefix-page.js";
import { PrefixesSection } from "./prefixes.js";
import { SessionsSection } from "./sessions.js";
import { SettingsSection } from "./settings.js";
import { VersionsSection } from "./versions.js";

/** What every signed-in page gets. */
export interface PageContext {
  csrf: string;
  sessionId: number;
  serving: ServingInfo;
}

/** The overview's sections. */
export function OverviewBody(props: { data: OverviewData; page: PageContext }) {
  const { data, page } = props;
  return (
    <>
      <PrefixesSection prefixes={data.prefixes} points={data.points} axis={data.axis} settings={data.settings} />
      <JobsSection jobs={data.jobs} />
      <VersionsSection versions={data.versions} serving={page.serving.version} />
      <SettingsSection settings={data.settings} />
      <PhrasesSection phrases={data.phrases} />
      <SessionsSection sessions={data.sessions} current={page.sessionId} />
    </>
  );
}

/** A signed-in page: the frame, the header, the flash and the CSRF token for every form. */
function SignedInPage(props: {
  title: string;
  live: string;
  page: PageContext;
  flash: string | null;
  children: Child;
}) {
  return (
    <CsrfToken.Provider value={props.page.csrf}>
      <Layout title={props.title} live={props.live} header={<SignedInHeader serving={props.page.serving} />}>
        <Flash message={props.flash} />
        {props.children}
      </Layout>
    </CsrfToken.Provider>
  );
}

/** The overview page. */
export function OverviewPage(props: { data: OverviewData; page: PageContext; flash: string | null }) {
  return (
    <SignedInPage title="sande-edge · guard" live={`${DASHBOARD_BASE}/live`} page={props.page} flash={props.flash}>
      <OverviewBody data={props.data} page={props.page} />
    </SignedInPage>
  );
}

/** One prefix's page. */
export function PrefixPage(props: { data: PrefixData; page: PageContext; flash: string | null }) {
  const id = props.data.prefix.id;
  return (
    <SignedInPage
      title={`Prefix #${id} · sande-edge`}
      live={`${DASHBOARD_BASE}/prefixes/${id}/live`}
      page={props.page}
      flash={props.flash}
    >
      <BackLink />
      <PrefixParts data={props.data} />
    </SignedInPage>
  );
}

/** A live fragment: the serving badge and a page body, without the frame. */
export function LiveFragment(props: { page: PageContext; children: Child }) {
  return (
    <CsrfToken.Provider value={props.page.csrf}>
      <div>
        <ServingBadge serving={props.page.serving} />
        {props.children}
      </div>
    </CsrfToken.Provider>
  );
}
