import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, theme as antdTheme } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { lazy, useEffect, useState, type ReactNode } from 'react';
import { createHashRouter, Navigate, RouterProvider, useParams, type RouteObject } from 'react-router';
import { ConnectionProvider } from './api/connection';
import FleetPage from './pages/FleetPage';
import { Shell } from './Shell';
import { useI18n } from './state/i18n';
import type { Settings } from './state/settings';
import { SettingsProvider, useSettings } from './state/SettingsContext';
import { useDark } from './state/theme';

// The list view, the page most people open first, ships in the main bundle so
// it renders with the first paint; the other pages load on demand.
const WindowPage = lazy(() => import('./pages/WindowPage'));
const OverviewPage = lazy(() => import('./pages/OverviewPage'));
const FreeGpusPage = lazy(() => import('./pages/FreeGpusPage'));
const SearchPage = lazy(() => import('./pages/SearchPage'));
const UsagePage = lazy(() => import('./pages/UsagePage'));
const AlertsPage = lazy(() => import('./pages/AlertsPage'));

function DefaultView() {
  const { settings } = useSettings();
  return <Navigate to={settings.defaultView === 'window' ? '/window' : '/list'} replace />;
}

function MachineRedirect() {
  const { key } = useParams();
  return <Navigate to={`/window/${encodeURIComponent(key ?? '')}`} replace />;
}

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Shell />,
    children: [
      { index: true, element: <DefaultView /> },
      { path: 'list', element: <FleetPage /> },
      { path: 'window', element: <WindowPage /> },
      { path: 'window/:key', element: <WindowPage /> },
      { path: 'machines/:key', element: <MachineRedirect /> },
      { path: 'overview', element: <OverviewPage /> },
      { path: 'free-gpus', element: <FreeGpusPage /> },
      { path: 'search', element: <SearchPage /> },
      { path: 'usage', element: <UsagePage /> },
      { path: 'alerts', element: <AlertsPage /> },
      { path: '*', element: <DefaultView /> },
    ],
  },
];

export function makeRouter() {
  return createHashRouter(routes);
}

/**
 * Ant Design theme, density and locale from the settings. zeroRuntime: the
 * components' style rules come from antd's prebuilt stylesheet (imported in
 * main.tsx) instead of being generated in the browser on first use, which
 * roughly halved the first render; the theme's tokens (dark, compact, our
 * primary colour) still reach them as CSS variables set here.
 */
/**
 * The primary colour per theme: links, the active tab and selections are
 * text in it, so it keeps 4.5:1 against the page (WCAG AA) in each: 5.3:1
 * on the light layout; the dark theme turns this seed into #5d92dc, 5.8:1
 * on its cards (and primary buttons there carry dark text: white on that
 * blue would be 3.2:1).
 */
const LIGHT_PRIMARY = '#1a5fd6';
const DARK_PRIMARY = '#6aa8ff';

/**
 * Theme tokens. Links take the primary colour (Ant Design's default link
 * blue is 4.0:1 on white), and the secondary and placeholder greys are dark
 * (light) or bright (dark) enough for 4.5:1: Ant Design's 45 % and 25 % are
 * 3.4:1 and 1.6:1.
 */
const LIGHT_TOKENS = {
  colorPrimary: LIGHT_PRIMARY,
  colorLink: LIGHT_PRIMARY,
  colorTextTertiary: 'rgba(0, 0, 0, 0.6)',
  colorTextDescription: 'rgba(0, 0, 0, 0.6)',
  colorTextPlaceholder: 'rgba(0, 0, 0, 0.55)',
  borderRadius: 6,
};
const DARK_TOKENS = {
  colorPrimary: DARK_PRIMARY,
  colorLink: DARK_PRIMARY,
  colorTextTertiary: 'rgba(255, 255, 255, 0.6)',
  colorTextDescription: 'rgba(255, 255, 255, 0.6)',
  colorTextPlaceholder: 'rgba(255, 255, 255, 0.55)',
  borderRadius: 6,
};

export function ThemeRoot({ children }: { children: ReactNode }) {
  const { settings } = useSettings();
  const { lang } = useI18n();
  const dark = useDark();
  const compact = settings.density === 'compact';
  useEffect(() => {
    dayjs.locale(lang === 'zh' ? 'zh-cn' : 'en');
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    document.documentElement.dataset.density = settings.density;
  }, [lang, dark, settings.density]);
  const algorithm = [dark ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm, ...(compact ? [antdTheme.compactAlgorithm] : [])];
  return (
    <ConfigProvider
      locale={lang === 'zh' ? zhCN : enUS}
      theme={{
        algorithm,
        token: dark ? DARK_TOKENS : LIGHT_TOKENS,
        components: dark ? { Button: { primaryColor: '#101010' } } : undefined,
        cssVar: { key: 'gpumon' },
        zeroRuntime: true,
      }}
      componentSize={compact ? 'small' : 'middle'}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { staleTime: 1000, refetchOnWindowFocus: true, refetchIntervalInBackground: false } },
  });
}

export function Providers({ children, initialSettings, client }: { children: ReactNode; initialSettings?: Settings; client?: QueryClient }) {
  const [qc] = useState(() => client ?? newQueryClient());
  return (
    <QueryClientProvider client={qc}>
      <SettingsProvider initial={initialSettings}>
        <ThemeRoot>
          <ConnectionProvider>{children}</ConnectionProvider>
        </ThemeRoot>
      </SettingsProvider>
    </QueryClientProvider>
  );
}

export default function App({ client, initialSettings }: { client?: QueryClient; initialSettings?: Settings }) {
  const [router] = useState(makeRouter);
  return (
    <Providers client={client} initialSettings={initialSettings}>
      <RouterProvider router={router} />
    </Providers>
  );
}
