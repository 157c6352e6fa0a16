import { App, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CopyOutlined } from '@ant-design/icons';
import { useMemo } from 'react';
import type { TerminalSession } from '../api/types';
import { overSsh, sessionCommand } from '../lib/commands';
import { useI18n, type T } from '../state/i18n';
import { useCopy } from './useCopy';
import { useSshTarget, type SshMachine } from './useSshTarget';

function statusColor(s?: string) {
  if (/detached/i.test(s ?? '')) return 'green';
  if (/attached|multi/i.test(s ?? '')) return 'orange';
  return 'default';
}

/** screen's and tmux's words for a session's state, in the page's language; anything else as reported. */
function statusText(t: T, s?: string): string {
  if (/multi/i.test(s ?? '')) return t('sessions.multi');
  if (/detached/i.test(s ?? '')) return t('sessions.detached');
  if (/attached/i.test(s ?? '')) return t('sessions.attached');
  return s || '–';
}

function columns(t: T, command: (s: TerminalSession) => string, onPick: (s: TerminalSession) => void): ColumnsType<TerminalSession> {
  return [
    {
      title: t('sessions.name'),
      dataIndex: 'name',
      key: 'name',
      ellipsis: true,
      render: (name: string, s) => (
        <Tooltip title={t('sessions.copyHint', { cmd: command(s) })}>
          <Typography.Link onClick={() => onPick(s)} className="copy-link" data-testid={`session-${name}`}>
            <CopyOutlined /> {name}
          </Typography.Link>
        </Tooltip>
      ),
    },
    { title: t('sessions.status'), dataIndex: 'status', key: 'status', width: 130, render: (v: string) => <Tag color={statusColor(v)}>{statusText(t, v)}</Tag> },
    { title: t('sessions.user'), dataIndex: 'user', key: 'user', width: 90, render: (v: string) => v || '–' },
    { title: t('sessions.kind'), dataIndex: 'kind', key: 'kind', width: 70, render: (v: string) => v || 'screen' },
    { title: t('sessions.pid'), dataIndex: 'pid', key: 'pid', width: 80 },
  ];
}

/**
 * screen and tmux sessions; a click copies the command that attaches, over
 * ssh to the machine (Settings → ssh target), asking first when someone is
 * attached.
 */
export function SessionTable({ sessions, machine }: { sessions: readonly TerminalSession[]; machine?: SshMachine }) {
  const { t } = useI18n();
  const { modal } = App.useApp();
  const copy = useCopy();
  const target = useSshTarget(machine);
  const cols = useMemo(() => {
    const command = (s: TerminalSession) => overSsh(target, sessionCommand(s).command);
    return columns(t, command, (s) => {
      if (!sessionCommand(s).needsConfirm) {
        void copy(command(s));
        return;
      }
      modal.confirm({
        title: t('sessions.attachedTitle', { name: s.name ?? '' }),
        content: t('sessions.attachedBody', { cmd: command(s) }),
        okText: t('sessions.copyAnyway'),
        cancelText: t('kill.cancel'),
        onOk: () => copy(command(s)),
      });
    });
  }, [t, copy, modal, target]);
  return (
    <Table<TerminalSession>
      size="small"
      rowKey={(s) => `${s.kind}:${s.pid}:${s.name}`}
      columns={cols}
      dataSource={sessions as TerminalSession[]}
      pagination={false}
      tableLayout="fixed"
      scroll={{ x: 480 }}
      locale={{ emptyText: t('sessions.none') }}
    />
  );
}
