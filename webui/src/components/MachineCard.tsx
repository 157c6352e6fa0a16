import { Button, Card, Flex, Progress, Tooltip, Typography } from 'antd';
import { DownOutlined, ExpandOutlined, RightOutlined } from '@ant-design/icons';
import { memo, type CSSProperties, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { MachineSummary } from '../api/types';
import { hostColor, LEVEL_STROKE, LEVEL_TAG_COLOR, temperatureLevel, usageLevel } from '../lib/colors';
import { formatMiB, percentOf } from '../lib/format';
import type { MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { MachineTags } from './MachineTags';

export interface MachineCardProps {
  m: MachineSummary;
  state: MachineState;
  expanded: boolean;
  onToggle: (key: string) => void;
  /** Rendered only while expanded. */
  children?: ReactNode;
}

/** One machine in the list view: a coloured header with its tags, collapsible body. */
export const MachineCard = memo(function MachineCard({ m, state, expanded, onToggle, children }: MachineCardProps) {
  const { t } = useI18n();
  const key = m.key ?? '';
  const offline = state === 'offline';
  const temp = m.max_temperature;
  return (
    <Card
      size="small"
      className={`machine-card${offline ? ' machine-offline' : ''}${expanded ? '' : ' machine-collapsed'}`}
      style={{ '--host-color': hostColor(m.hostname || key) } as CSSProperties}
      data-testid={`machine-${key}`}
      data-state={state}
      title={
        <Flex align="center" gap={8} wrap className="machine-head">
          <Button
            type="text"
            size="small"
            icon={expanded ? <DownOutlined /> : <RightOutlined />}
            aria-label={expanded ? t('machine.collapse') : t('machine.expand')}
            aria-expanded={expanded}
            onClick={() => onToggle(key)}
            className="machine-toggle"
          />
          <span className="host-dot" aria-hidden />
          <Typography.Text strong className="machine-name" onClick={() => onToggle(key)}>
            {m.hostname || key}
          </Typography.Text>
          <Typography.Text type="secondary" className="machine-gpus">
            {t('machine.gpus', { n: m.gpu_count ?? 0 })}
            {m.gpu_count ? ` · ${t('machine.busy', { n: m.gpus_busy ?? 0 })} · ${formatMiB(m.gpu_memory_used)} / ${formatMiB(m.gpu_memory_total)}` : ''}
          </Typography.Text>
          {m.gpu_count ? (
            <Tooltip title={`${t('gpu.utilization')} ${Math.round(m.gpu_utilization ?? 0)}% · ${t('gpu.memory')} ${Math.round(percentOf(m.gpu_memory_used, m.gpu_memory_total))}%`}>
              <span className="mini-meters" aria-hidden>
                <Progress percent={m.gpu_utilization ?? 0} size={[64, 5]} showInfo={false} strokeColor={LEVEL_STROKE[usageLevel(m.gpu_utilization)]} />
                <Progress percent={percentOf(m.gpu_memory_used, m.gpu_memory_total)} size={[64, 5]} showInfo={false} />
              </span>
            </Tooltip>
          ) : null}
          {temp != null ? (
            <Typography.Text className={`temp-text temp-${LEVEL_TAG_COLOR[temperatureLevel(temp)]}`}>{temp}°C</Typography.Text>
          ) : null}
          <MachineTags m={m} state={state} />
        </Flex>
      }
      extra={
        <Tooltip title={t('machine.open')}>
          <Link to={`/window/${encodeURIComponent(key)}`} aria-label={t('machine.open')}>
            <ExpandOutlined />
          </Link>
        </Tooltip>
      }
    >
      {expanded ? children : null}
    </Card>
  );
});
