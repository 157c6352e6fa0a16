import { Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CopyOutlined } from '@ant-design/icons';
import { useMemo } from 'react';
import type { DockerContainer } from '../api/types';
import { dockerExecCommand, overSsh } from '../lib/commands';
import { formatBytes, formatPercent } from '../lib/format';
import { formatGpuDevices, parseGpuDevices } from '../lib/gpuDevices';
import { useI18n, type T } from '../state/i18n';
import { useCopy } from './useCopy';
import { useSshTarget, type SshMachine } from './useSshTarget';

function columns(t: T, exec: (id: string) => string, copy: (s: string) => void): ColumnsType<DockerContainer> {
  return [
    { title: t('docker.id'), dataIndex: 'id', key: 'id', width: 120, render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    {
      title: t('docker.name'),
      dataIndex: 'name',
      key: 'name',
      ellipsis: true,
      render: (name: string, c) => (
        <Tooltip title={t('sessions.copyHint', { cmd: exec(c.id ?? '') })}>
          <Typography.Link onClick={() => copy(exec(c.id ?? ''))} className="copy-link" data-testid={`container-${c.id}`}>
            <CopyOutlined /> {name}
          </Typography.Link>
        </Tooltip>
      ),
    },
    { title: t('docker.status'), dataIndex: 'status', key: 'status', width: 120, ellipsis: true, render: (v: string) => <Tag color={/^up/i.test(v) ? 'green' : 'default'}>{v}</Tag> },
    { title: t('docker.cpu'), dataIndex: 'cpu_percent', key: 'cpu', width: 70, align: 'right', render: (v: number) => formatPercent(v) },
    {
      title: t('docker.memory'),
      dataIndex: 'memoryUsage',
      key: 'mem',
      width: 100,
      align: 'right',
      render: (v: number, c) => (c.memory_limit ? <Tooltip title={`/ ${formatBytes(c.memory_limit)}`}>{formatBytes(v)}</Tooltip> : formatBytes(v)),
    },
    { title: t('docker.image'), dataIndex: 'image', key: 'image', ellipsis: true, responsive: ['md'], render: (v: string) => <Tooltip title={v}>{v}</Tooltip> },
    {
      title: t('docker.gpus'),
      key: 'gpus',
      width: 70,
      render: (_: unknown, c) => formatGpuDevices(parseGpuDevices(c.gpuDevices, c.gpu_ids)),
    },
  ];
}

/** Running containers; clicking a name copies `docker exec -it <id> bash`, over ssh to the machine (Settings → ssh target). */
export function ContainerTable({ containers, machine }: { containers: readonly DockerContainer[]; machine?: SshMachine }) {
  const { t } = useI18n();
  const copy = useCopy();
  const target = useSshTarget(machine);
  const cols = useMemo(() => columns(t, (id) => overSsh(target, dockerExecCommand(id)), (s) => void copy(s)), [t, copy, target]);
  return (
    <Table<DockerContainer>
      size="small"
      rowKey={(c) => c.id ?? c.name ?? ''}
      columns={cols}
      dataSource={containers as DockerContainer[]}
      pagination={false}
      tableLayout="fixed"
      scroll={{ x: 640 }}
      locale={{ emptyText: t('docker.none') }}
    />
  );
}
