import { ClockCircleOutlined, CloudServerOutlined, ClusterOutlined, DisconnectOutlined, SyncOutlined, WarningOutlined } from '@ant-design/icons';
import type { MachineSummary } from '../api/types';
import { LEVEL_TAG_COLOR, usageLevel } from '../lib/colors';
import { formatOffset, formatPercent } from '../lib/format';
import type { MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { Ago } from './Ago';
import { Chip } from './Chip';

/** The at-a-glance tags of a machine: IP, memory, CPU, disk, state, last update. */
export function MachineTags({ m, state }: { m: MachineSummary; state: MachineState }) {
  const { t } = useI18n();
  const usage = (label: string, hint: string, v?: number) => (
    <Chip color={state === 'offline' ? 'default' : LEVEL_TAG_COLOR[usageLevel(v)]} hint={hint}>
      {label} {formatPercent(v, 0)}
    </Chip>
  );
  return (
    <span className="machine-tags">
      {m.ip_address ? (
        <Chip icon={<CloudServerOutlined />} hint={t('machine.ip')}>
          {m.ip_address}
        </Chip>
      ) : null}
      {usage(t('machine.memory'), t('machine.memHint'), m.memory_percent)}
      {usage(t('machine.cpu'), t('machine.cpuHint'), m.cpu_percent)}
      {usage(t('machine.disk'), t('machine.diskHint'), m.disk_percent)}
      {state === 'online' ? (
        <Chip color="green">{t('machine.online')}</Chip>
      ) : state === 'stale' ? (
        <Chip color="orange" icon={<WarningOutlined />} hint={t('machine.staleHint')}>
          {t('machine.stale')}
        </Chip>
      ) : m.reconnecting ? (
        <Chip color="orange" icon={<SyncOutlined />} hint={t('machine.reconnectingHint')} className="reconnecting-tag">
          {t('machine.reconnecting')}
        </Chip>
      ) : (
        <Chip icon={<DisconnectOutlined />} hint={t('machine.offlineHint')} className="offline-tag">
          {t('machine.offline')}
        </Chip>
      )}
      {m.hub ? (
        <Chip icon={<ClusterOutlined />} hint={t('machine.hubHint')} className="hub-tag">
          {t('machine.hub', { hub: m.hub })}
        </Chip>
      ) : null}
      {m.simulated ? <Chip color="purple">{t('machine.simulated')}</Chip> : null}
      {m.hostname_conflict ? (
        <Chip color="red" hint={t('machine.conflictHint')}>
          {t('machine.conflict')}
        </Chip>
      ) : null}
      {m.clock_offset_seconds != null ? (
        <Chip color="orange" icon={<ClockCircleOutlined />} hint={t('machine.clockHint', { offset: formatOffset(m.clock_offset_seconds) })}>
          {t('machine.clock', { offset: formatOffset(m.clock_offset_seconds) })}
        </Chip>
      ) : null}
      <Ago time={m.last_seen} />
    </span>
  );
}
