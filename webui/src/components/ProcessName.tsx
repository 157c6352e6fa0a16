import { Tooltip, Typography } from 'antd';

/**
 * A process name and its command line, cut with an ellipsis and shown in full
 * on hover. Both are untrusted text from the machine: rendered as text only.
 */
export function ProcessName({ name, cmdline }: { name?: string; cmdline?: string }) {
  const full = cmdline || name || '';
  return (
    <Tooltip title={<span className="cmdline-full">{full}</span>} placement="topLeft" mouseEnterDelay={0.3}>
      <div className="proc-name">
        <Typography.Text strong className="proc-name-main">
          {name || '?'}
        </Typography.Text>
        {cmdline && cmdline !== name ? (
          <Typography.Text type="secondary" className="proc-cmdline">
            {cmdline}
          </Typography.Text>
        ) : null}
      </div>
    </Tooltip>
  );
}
