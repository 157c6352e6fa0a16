import { useEffect, useRef } from 'react';
import { useNavigate } from 'react-router';
import { useActiveAlerts } from '../api/alerts';
import { useFreeGpusFor } from '../api/freeFilter';
import { alertKey, firingKeys, gpuKey, newlyFree, newPinnedAlerts } from '../lib/alerts';
import { formatMiB } from '../lib/format';
import { useAlertText } from '../state/alertMessages';
import { permission, useNotifyPrefs } from '../state/notify';

/**
 * Shows the browser notifications the user turned on: a GPU matching their
 * filter became free, an alert started firing on a machine they pinned.
 * What is already so when it starts (or when a preference changes) is not
 * news; only what changes after is. Clicking a notification opens the page
 * where it happened. Loaded only once the user has notification
 * preferences; runs while one is on and the browser allows notifications.
 */
export default function AlertNotifier() {
  const [prefs] = useNotifyPrefs();
  if (!(prefs.freeGpus || prefs.pinnedAlerts) || permission() !== 'granted') return null;
  return <Notifier />;
}

function Notifier() {
  const [prefs] = useNotifyPrefs();
  const { t } = useAlertText();
  const navigate = useNavigate();
  const alerts = useActiveAlerts();
  const free = useFreeGpusFor(prefs.freeFilter, prefs.freeGpus);
  const seenAlerts = useRef<{ key: string; seen: Set<string> }>(undefined);
  const seenFree = useRef<{ key: string; seen: Set<string> }>(undefined);

  const show = (title: string, body: string, tag: string, link: string) => {
    if (permission() !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag });
      n.onclick = () => {
        window.focus();
        navigate(link);
        n.close();
      };
    } catch {
      // a browser that shows notifications only from a service worker: none
    }
  };

  useEffect(() => {
    const now = alerts.data?.alerts;
    if (!now) return;
    const key = `${prefs.pinnedAlerts}|${prefs.pinned.join(',')}`;
    const prev = seenAlerts.current?.key === key ? seenAlerts.current.seen : undefined;
    if (prefs.pinnedAlerts) {
      for (const a of newPinnedAlerts(prev, now, prefs.pinned)) {
        const summary = a.annotations?.summary || `${a.name} ${a.hostname || a.machine}`;
        show(t('alerts.note.alert', { severity: a.severity || a.name || '', summary }), a.annotations?.description ?? '', alertKey(a),
          `/window/${encodeURIComponent(a.machine ?? '')}`);
      }
    }
    seenAlerts.current = { key, seen: firingKeys(now) };
    // Only new data or preferences drive this (show and t follow the language).
  }, [alerts.data, prefs.pinnedAlerts, prefs.pinned]);

  useEffect(() => {
    const now = free.data?.gpus;
    if (!prefs.freeGpus || !now) return;
    const key = JSON.stringify(prefs.freeFilter);
    const prev = seenFree.current?.key === key ? seenFree.current.seen : undefined;
    for (const g of newlyFree(prev, now)) {
      show(
        t('alerts.note.free', { gpu: g.index ?? 0, host: g.hostname || g.machine || '' }),
        t('alerts.note.freeBody', { free: formatMiB(g.memory_free), total: formatMiB(g.memory_total), util: g.utilization == null ? '–' : `${g.utilization}%` }),
        gpuKey(g),
        `/window/${encodeURIComponent(g.machine ?? '')}`,
      );
    }
    seenFree.current = { key, seen: new Set(now.map(gpuKey)) };
  }, [free.data, prefs.freeGpus, prefs.freeFilter]);

  return null;
}
