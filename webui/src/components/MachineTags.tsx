import { Tag, Tooltip } from 'antd';
import { CloudServerOutlined, DisconnectOutlined, WarningOutlined } from '@ant-design/icons';
import type { MachineSummary } from '../api/types';
import { LEVEL_TAG_COLOR, usageLevel } from '../lib/colors';
import { formatPercent } from '../lib/format';
import type { MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { Ago } from './Ago';

/** The at-a-glance tags of a machine: IP, memory, CPU, disk, state, last update. */
export function MachineTags({ m, state }: { m: MachineSummary; state: MachineState }) {
  const { t } = useI18n();
  const usage = (label: string, hint: string, v?: number) => (
    <Tooltip title={hint}>
      <Tag color={state === 'offline' ? 'default' : LEVEL_TAG_COLOR[usageLevel(v)]}>
        {label} {formatPercent(v, 0)}
      </Tag>
    </Tooltip>
  );
  return (
    <span className="machine-tags">
      {m.ip_address ? (
        <Tooltip title={t('machine.ip')}>
          <Tag icon={<CloudServerOutlined />}>{m.ip_address}</Tag>
        </Tooltip>
      ) : null}
      {usage(t('machine.memory'), t('machine.memHint'), m.memory_percent)}
      {usage(t('machine.cpu'), t('machine.cpuHint'), m.cpu_percent)}
      {usage(t('machine.disk'), t('machine.diskHint'), m.disk_percent)}
      {state === 'online' ? (
        <Tag color="success">{t('machine.online')}</Tag>
      ) : state === 'stale' ? (
        <Tooltip title={t('machine.staleHint')}>
          <Tag color="warning" icon={<WarningOutlined />}>
            {t('machine.stale')}
          </Tag>
        </Tooltip>
      ) : (
        <Tooltip title={t('machine.offlineHint')}>
          <Tag color="default" icon={<DisconnectOutlined />} className="offline-tag">
            {t('machine.offline')}
          </Tag>
        </Tooltip>
      )}
      {m.simulated ? <Tag color="purple">{t('machine.simulated')}</Tag> : null}
      {m.hostname_conflict ? (
        <Tooltip title={t('machine.conflictHint')}>
          <Tag color="red">{t('machine.conflict')}</Tag>
        </Tooltip>
      ) : null}
      <Ago time={m.last_seen} />
    </span>
  );
}
