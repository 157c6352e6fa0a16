import { Button, Card, Flex, Progress, Tag, Tooltip, Typography } from 'antd';
import { FireOutlined, LineChartOutlined, PauseCircleOutlined } from '@ant-design/icons';
import { memo } from 'react';
import type { Gpu } from '../api/types';
import { LEVEL_STROKE, LEVEL_TAG_COLOR, temperatureLevel, usageLevel } from '../lib/colors';
import { formatDateTime, formatDuration, formatMiB, percentOf } from '../lib/format';
import { idleSeconds } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { ProcessTable, type KillPermission } from './ProcessTable';

export interface GpuCardProps {
  gpu: Gpu;
  offline?: boolean;
  /** The hub's receive time of the report the GPU comes from (the summary's last_seen). */
  asOf?: string | null;
  /** Show only Python processes (a setting). */
  pythonOnly?: boolean;
  myUser?: string;
  kill?: KillPermission;
  containerName?: (id: string) => string | undefined;
  onHistory?: (gpu: number) => void;
}

export const GpuCard = memo(function GpuCard({ gpu, offline, asOf, pythonOnly, myUser, kill, containerName, onHistory }: GpuCardProps) {
  const { t } = useI18n();
  const temp = gpu.temperature ?? null;
  const util = gpu.utilization ?? null;
  const used = gpu.memory_used ?? 0;
  const total = gpu.memory_total ?? 0;
  const memPct = percentOf(used, total);
  // The hub says whether a GPU is idle while held, since when, and when that
  // has lasted long enough to count (idle_held): the same GPUs Usage lists.
  const idleFor = offline ? null : idleSeconds(gpu, asOf);
  const idleHeld = idleFor != null && !!gpu.idle_held;
  const tLevel = temperatureLevel(temp);
  const users = [...new Set((gpu.processes ?? []).map((p) => p.username).filter((u): u is string => !!u))];
  return (
    <Card
      size="small"
      className={`gpu-card${idleHeld ? ' gpu-idle-held' : ''}`}
      data-testid={`gpu-${gpu.id}`}
      title={
        <Flex align="center" gap={8} wrap className="gpu-title">
          <Typography.Text strong>GPU {gpu.id}</Typography.Text>
          <Typography.Text type="secondary" ellipsis className="gpu-name">
            {gpu.name}
          </Typography.Text>
          {users.length ? (
            <Tooltip title={t('gpu.users')}>
              <span className="gpu-users">
                {users.slice(0, 3).map((u) => (
                  <Tag key={u} color={u === myUser ? 'blue' : undefined} bordered={false}>
                    {u}
                  </Tag>
                ))}
                {users.length > 3 ? <Tag bordered={false}>+{users.length - 3}</Tag> : null}
              </span>
            </Tooltip>
          ) : null}
        </Flex>
      }
      extra={
        <Flex gap={4} align="center">
          {idleFor != null ? (
            <Tooltip title={t(idleHeld ? 'gpu.idleHeldHint' : 'gpu.idleHint', { since: formatDateTime(gpu.idle_since) })}>
              <Tag color={idleHeld ? 'warning' : undefined} icon={<PauseCircleOutlined />} data-testid="idle-tag" data-held={idleHeld}>
                {t(idleHeld ? 'gpu.idleHeldFor' : 'gpu.idleFor', { d: formatDuration(idleFor, t) })}
              </Tag>
            </Tooltip>
          ) : null}
          <Tooltip title={t('gpu.temperature')}>
            <Tag color={LEVEL_TAG_COLOR[tLevel]} icon={tLevel === 'hot' ? <FireOutlined /> : undefined} className="temp-tag">
              {temp == null ? '–' : `${temp}°C`}
            </Tag>
          </Tooltip>
          {onHistory ? (
            <Tooltip title={t('gpu.history')}>
              <Button size="small" type="text" icon={<LineChartOutlined />} aria-label={t('gpu.historyOf', { gpu: gpu.id ?? 0 })} onClick={() => onHistory(gpu.id ?? 0)} />
            </Tooltip>
          ) : null}
        </Flex>
      }
    >
      {gpu.error ? <Typography.Text type="danger">{t('gpu.error', { error: gpu.error })}</Typography.Text> : null}
      <div className="gpu-meters">
        <div className="meter">
          <span className="meter-label">{t('gpu.utilization')}</span>
          <Progress
            size="small"
            aria-label={t('gpu.utilization')}
            percent={util ?? 0}
            status="normal"
            strokeColor={LEVEL_STROKE[usageLevel(util)]}
            format={() => (util == null ? '–' : `${util}%`)}
          />
        </div>
        <div className="meter">
          <span className="meter-label">{t('gpu.memory')}</span>
          <Progress
            size="small"
            aria-label={t('gpu.memory')}
            percent={Math.round(memPct)}
            status="normal"
            strokeColor={LEVEL_STROKE[usageLevel(memPct)]}
            format={() => `${used.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} MiB`}
            className="mem-progress"
          />
        </div>
        {gpu.power_draw != null ? (
          <Typography.Text type="secondary" className="gpu-extra">
            {t('gpu.power')} {Math.round(gpu.power_draw)}
            {gpu.power_limit ? ` / ${Math.round(gpu.power_limit)}` : ''} W
            {gpu.fan_speed != null ? ` · ${t('gpu.fan')} ${gpu.fan_speed}%` : ''}
            {total > 0 ? ` · ${formatMiB(Math.max(0, total - used))} ${t('gpu.free')}` : ''}
          </Typography.Text>
        ) : null}
      </div>
      {gpu.processes?.length ? (
        <ProcessTable processes={gpu.processes} variant="gpu" pythonOnly={pythonOnly} myUser={myUser} kill={kill} containerName={containerName} />
      ) : (
        <Typography.Text type="secondary" className="no-procs">
          {t('proc.none')}
        </Typography.Text>
      )}
    </Card>
  );
});
