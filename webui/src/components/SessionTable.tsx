import { App, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CopyOutlined } from '@ant-design/icons';
import { useMemo } from 'react';
import type { TerminalSession } from '../api/types';
import { sessionCommand } from '../lib/commands';
import { useI18n, type T } from '../state/i18n';
import { useCopy } from './useCopy';

function statusColor(s?: string) {
  if (/detached/i.test(s ?? '')) return 'green';
  if (/attached|multi/i.test(s ?? '')) return 'orange';
  return 'default';
}

function columns(t: T, onPick: (s: TerminalSession) => void): ColumnsType<TerminalSession> {
  return [
    {
      title: t('sessions.name'),
      dataIndex: 'name',
      key: 'name',
      ellipsis: true,
      render: (name: string, s) => (
        <Tooltip title={t('sessions.copyHint', { cmd: sessionCommand(s).command })}>
          <Typography.Link onClick={() => onPick(s)} className="copy-link" data-testid={`session-${name}`}>
            <CopyOutlined /> {name}
          </Typography.Link>
        </Tooltip>
      ),
    },
    { title: t('sessions.status'), dataIndex: 'status', key: 'status', width: 100, render: (v: string) => <Tag color={statusColor(v)}>{v}</Tag> },
    { title: t('sessions.user'), dataIndex: 'user', key: 'user', width: 90, render: (v: string) => v || '–' },
    { title: t('sessions.kind'), dataIndex: 'kind', key: 'kind', width: 70, render: (v: string) => v || 'screen' },
    { title: t('sessions.pid'), dataIndex: 'pid', key: 'pid', width: 80 },
  ];
}

/** screen and tmux sessions; a click copies the command that attaches (asking first when someone is attached). */
export function SessionTable({ sessions }: { sessions: readonly TerminalSession[] }) {
  const { t } = useI18n();
  const { modal } = App.useApp();
  const copy = useCopy();
  const cols = useMemo(
    () =>
      columns(t, (s) => {
        const { command, needsConfirm } = sessionCommand(s);
        if (!needsConfirm) {
          void copy(command);
          return;
        }
        modal.confirm({
          title: t('sessions.attachedTitle', { name: s.name ?? '' }),
          content: t('sessions.attachedBody', { cmd: command }),
          okText: t('sessions.copyAnyway'),
          cancelText: t('kill.cancel'),
          onOk: () => copy(command),
        });
      }),
    [t, copy, modal],
  );
  return (
    <Table<TerminalSession>
      size="small"
      rowKey={(s) => `${s.kind}:${s.pid}:${s.name}`}
      columns={cols}
      dataSource={sessions as TerminalSession[]}
      pagination={false}
      tableLayout="fixed"
      locale={{ emptyText: t('sessions.none') }}
    />
  );
}
