import { Alert, Button, Flex, Layout, Menu, Skeleton, Tooltip, Typography } from 'antd';
import { MoonOutlined, SettingOutlined, SunOutlined, TranslationOutlined } from '@ant-design/icons';
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { useConnection } from './api/connection';
import { ApiError } from './api/client';
import { useDegraded, useMachines } from './api/hooks';
import { AlertBell } from './components/AlertBell';
import { ConnectionBadge } from './components/ConnectionBadge';
import { EmptyFleet } from './components/EmptyFleet';
import { ErrorBoundary } from './components/ErrorBoundary';
import { ErrorState } from './components/ErrorState';
import { NotifierMount } from './components/NotifierMount';
import { useI18n } from './state/i18n';
import { useSettings } from './state/SettingsContext';
import { useDark } from './state/theme';

// The settings dialog is loaded and rendered the first time it opens: its form
// costs the first paint nothing.
const SettingsModal = lazy(() => import('./components/SettingsModal'));

function hubHost(apiBase: string): string {
  try {
    return new URL(apiBase || window.location.href).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** The frame of every page: header with navigation, fleet totals, connection state, settings. */
export function Shell() {
  const { t, lang } = useI18n();
  const { settings, update, open, setOpen } = useSettings();
  const { state } = useConnection();
  const location = useLocation();
  const q = useMachines();
  const degraded = useDegraded();
  const section = location.pathname.split('/')[1] || 'list';
  const totals = q.data?.totals;
  const unreachable = q.error instanceof ApiError && [0, 502, 504].includes(q.error.status);
  const dark = useDark();
  const fleetPage = section === 'list' || section === 'window';
  const empty = q.isSuccess && (q.data.machines?.length ?? 0) === 0;
  const hubUrl = settings.apiBase || window.location.origin;
  const [settingsUsed, setSettingsUsed] = useState(open);
  if (open && !settingsUsed) setSettingsUsed(true);

  const nav = useMemo(
    () => [
      { key: 'list', label: <Link to="/list">{t('nav.list')}</Link> },
      { key: 'window', label: <Link to="/window">{t('nav.window')}</Link> },
      { key: 'overview', label: <Link to="/overview">{t('nav.overview')}</Link> },
      { key: 'free-gpus', label: <Link to="/free-gpus">{t('nav.free')}</Link> },
      { key: 'search', label: <Link to="/search">{t('nav.search')}</Link> },
      { key: 'usage', label: <Link to="/usage">{t('nav.usage')}</Link> },
    ],
    [t],
  );

  let body = (
    <ErrorBoundary title={t('err.page')} retryText={t('err.retry')} resetKey={location.pathname}>
      <Suspense fallback={<Skeleton active paragraph={{ rows: 8 }} className="page-skeleton" />}>
        <Outlet />
      </Suspense>
    </ErrorBoundary>
  );
  if (q.error && !q.data) {
    body = (
      <ErrorState
        error={q.error}
        hubUrl={hubUrl}
        onRetry={() => void q.refetch()}
        onOpenSettings={() => setOpen(true)}
        onSaveToken={(token) => update({ apiToken: token })}
      />
    );
  } else if (q.isLoading && fleetPage) {
    body = <Skeleton active paragraph={{ rows: 8 }} className="page-skeleton" />;
  } else if (empty && fleetPage) {
    body = <EmptyFleet hubHost={hubHost(settings.apiBase)} />;
  }

  return (
    <Layout className="app-layout">
      <Layout.Header className="app-header">
        <Link to="/" className="brand" aria-label="gpumon">
          <img src="./favicon.svg" alt="" width={22} height={22} />
          <span>gpumon</span>
        </Link>
        <Menu mode="horizontal" selectedKeys={[section]} items={nav} className="app-nav" />
        <Flex gap={12} align="center" className="header-right">
          {totals ? (
            <Typography.Text className="totals" data-testid="totals">
              <span>{t('totals.machines', { n: totals.machines_online ?? 0 })}</span>
              {totals.machines_offline ? (
                <span className="totals-offline" title={t('totals.offlineHint')} data-testid="totals-offline">
                  {t('totals.offline', { n: totals.machines_offline })}
                </span>
              ) : null}
              <span className="totals-gpus" title={t('totals.busyHint')}>
                {t('totals.gpus', { busy: totals.gpus_busy ?? 0, n: totals.gpus ?? 0 })}
              </span>
              <Link to="/free-gpus" className="totals-free" title={t('totals.freeHint')}>
                {t('totals.free', { n: totals.gpus_free ?? 0 })}
              </Link>
            </Typography.Text>
          ) : null}
          <AlertBell />
          <ConnectionBadge state={state} reachable={!unreachable} refreshSeconds={settings.refreshSeconds} />
          <Tooltip title={t('settings.language')}>
            <Button
              type="text"
              icon={<TranslationOutlined />}
              aria-label={lang === 'zh' ? 'English' : '中文'}
              data-testid="lang-switch"
              onClick={() => update({ language: lang === 'zh' ? 'en' : 'zh' })}
            >
              {lang === 'zh' ? 'EN' : '中文'}
            </Button>
          </Tooltip>
          <Tooltip title={t('settings.theme')}>
            <Button type="text" icon={dark ? <SunOutlined /> : <MoonOutlined />} aria-label={t('settings.theme')} onClick={() => update({ theme: dark ? 'light' : 'dark' })} />
          </Tooltip>
          <Tooltip title={t('nav.settings')}>
            <Button type="text" icon={<SettingOutlined />} aria-label={t('nav.settings')} data-testid="open-settings" onClick={() => setOpen(true)} />
          </Tooltip>
        </Flex>
      </Layout.Header>
      <Layout.Content className="app-content">
        {degraded ? <Alert type="warning" showIcon banner title={t('hub.degraded', { reason: degraded })} className="degraded-banner" data-testid="degraded-banner" /> : null}
        {q.error && q.data ? (
          <Alert type="warning" showIcon banner title={`${t('err.unreachable')}: ${(q.error as Error).message}`} className="stale-banner" />
        ) : null}
        {body}
      </Layout.Content>
      <NotifierMount />
      {settingsUsed ? (
        <Suspense fallback={null}>
          <SettingsModal
            open={open}
            value={settings}
            onClose={() => setOpen(false)}
            onSave={(s) => {
              update(s);
              setOpen(false);
            }}
          />
        </Suspense>
      ) : null}
    </Layout>
  );
}
