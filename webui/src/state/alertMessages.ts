// The words of the alerts view and the browser notifications, in English and
// Chinese. Apart from messages.ts: they load on demand, with the view.
import { useCallback } from 'react';
import { useI18n } from './i18n';
import { format, pluralForm, type Message } from './messages';

export const alertEn = {
  'alerts.title': 'Alerts',
  'alerts.firing': '{n} firing',
  'alerts.pending': 'Also pending',
  'alerts.pendingHint': 'Alerts whose condition holds, but not yet for as long as the rule’s “for”.',
  'alerts.none': 'No alert is firing.',
  'alerts.noRules': 'The hub evaluates no alerting rules: it runs with --default-rules=false and no --rules.',
  'alerts.rules': {
    one: '{n} alerting rule (the hub’s default rules and its --rules files; see docs/ALERTS.md).',
    other: '{n} alerting rules (the hub’s default rules and its --rules files; see docs/ALERTS.md).',
  },
  'alerts.severity': 'Severity',
  'alerts.alert': 'Alert',
  'alerts.machine': 'Machine',
  'alerts.since': 'Since',
  'alerts.state': 'State',
  'alerts.state.firing': 'firing',
  'alerts.state.pending': 'pending',
  'alerts.gpu': 'GPU {gpu}',
  'alerts.notify': 'Browser notifications',
  'alerts.notifyHint': 'Shown while this page is open in a tab, in this browser only.',
  'alerts.permission.unsupported': 'This browser cannot show notifications.',
  'alerts.permission.default': 'Notifications are not allowed yet.',
  'alerts.permission.granted': 'Notifications are allowed.',
  'alerts.permission.denied': 'Notifications are blocked for this site: allow them in the browser’s site settings, then reload.',
  'alerts.allow': 'Allow notifications',
  'alerts.notifyFree': 'When a GPU matching this filter becomes free',
  'alerts.notifyPinned': 'When an alert fires on a pinned machine',
  'alerts.pinned': 'Pinned machines',
  'alerts.pinPlaceholder': 'Pick machines to pin',
  'alerts.filterMinFree': 'Min free memory (GiB)',
  'alerts.filterMaxUtil': 'Max utilisation (%)',
  'alerts.filterMinPct': 'Min free memory (%)',
  'alerts.filterShared': 'Also GPUs with running jobs',
  'alerts.filterIdle': 'Only GPUs without processes',
  'alerts.filterDefault': 'hub default',
  'alerts.note.free': 'GPU {gpu} on {host} is free',
  'alerts.note.freeBody': '{free} free of {total}, {util} busy',
  'alerts.note.alert': '{severity}: {summary}',
} as const;

export type AlertMessageKey = keyof typeof alertEn;

export const alertZh: Record<AlertMessageKey, Message> = {
  'alerts.title': '告警',
  'alerts.firing': '{n} 条正在触发',
  'alerts.pending': '也显示待定的',
  'alerts.pendingHint': '条件已成立、但持续时间尚未达到规则 “for” 的告警。',
  'alerts.none': '没有正在触发的告警。',
  'alerts.noRules': 'hub 没有计算任何告警规则：它以 --default-rules=false 启动且没有 --rules。',
  'alerts.rules': '共 {n} 条告警规则（hub 的默认规则和 --rules 文件；见 docs/ALERTS.md）。',
  'alerts.severity': '级别',
  'alerts.alert': '告警',
  'alerts.machine': '机器',
  'alerts.since': '开始于',
  'alerts.state': '状态',
  'alerts.state.firing': '触发中',
  'alerts.state.pending': '待定',
  'alerts.gpu': 'GPU {gpu}',
  'alerts.notify': '浏览器通知',
  'alerts.notifyHint': '仅在此浏览器中、本页面在某个标签页打开时显示。',
  'alerts.permission.unsupported': '此浏览器不能显示通知。',
  'alerts.permission.default': '尚未允许通知。',
  'alerts.permission.granted': '已允许通知。',
  'alerts.permission.denied': '此网站的通知已被阻止：请在浏览器的网站设置中允许，然后重新加载页面。',
  'alerts.allow': '允许通知',
  'alerts.notifyFree': '当符合此筛选条件的 GPU 空闲时',
  'alerts.notifyPinned': '当置顶的机器出现告警时',
  'alerts.pinned': '置顶的机器',
  'alerts.pinPlaceholder': '选择要置顶的机器',
  'alerts.filterMinFree': '最少空闲显存（GiB）',
  'alerts.filterMaxUtil': '最高利用率（%）',
  'alerts.filterMinPct': '最少空闲显存（%）',
  'alerts.filterShared': '也包括有任务在跑的 GPU',
  'alerts.filterIdle': '只看没有进程的 GPU',
  'alerts.filterDefault': 'hub 默认值',
  'alerts.note.free': '{host} 上的 GPU {gpu} 空闲了',
  'alerts.note.freeBody': '空闲 {free}（共 {total}），利用率 {util}',
  'alerts.note.alert': '{severity}：{summary}',
};

export type AlertT = (key: AlertMessageKey, vars?: Record<string, string | number>) => string;

export function alertText(lang: 'en' | 'zh', key: AlertMessageKey, vars?: Record<string, string | number>): string {
  return format(pluralForm((lang === 'zh' ? alertZh : alertEn)[key] ?? alertEn[key], lang, vars), vars);
}

/** The current language and a translate function for these words. */
export function useAlertText(): { lang: 'en' | 'zh'; t: AlertT } {
  const { lang } = useI18n();
  const t = useCallback<AlertT>((key, vars) => alertText(lang, key, vars), [lang]);
  return { lang, t };
}
