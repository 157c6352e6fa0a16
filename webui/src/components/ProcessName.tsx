import { Tooltip } from 'antd';

/**
 * A process's command line (its name when there is none), wrapped over up
 * to two lines so that two jobs of one program can be told apart, and shown
 * in full on hover. Both are untrusted text from the machine: rendered as
 * text only.
 */
export function ProcessName({ name, cmdline }: { name?: string; cmdline?: string }) {
  const full = cmdline || name || '';
  // The name adds nothing when the command line starts with it ("python train.py …").
  const program = (cmdline ?? '').trim().split(/\s+/)[0] ?? '';
  const showName = !!name && !!cmdline && program !== name && !program.endsWith(`/${name}`);
  return (
    <Tooltip title={<span className="cmdline-full">{full}</span>} placement="topLeft" mouseEnterDelay={0.3}>
      <div className="proc-name">
        {showName ? <strong className="proc-name-main">{name}</strong> : null}
        <span className={cmdline ? 'proc-cmdline' : 'proc-name-main'}>{cmdline || name || '?'}</span>
      </div>
    </Tooltip>
  );
}
