import { BellOutlined } from '@ant-design/icons';
import { Button, Tooltip } from 'antd';
import { useNavigate } from 'react-router';
import { firingCount, useActiveAlerts } from '../api/alerts';
import { useI18n } from '../state/i18n';

// The bell's one phrase lives here, not with the alerts view's words: those
// load with the view, and the bell is on every page's first load.
const LABEL = { en: (n: number) => `Alerts: ${n} firing`, zh: (n: number) => `告警：${n} 条正在触发` };

/** The header's bell: how many alerts fire now; it opens the alerts view. */
export function AlertBell() {
  const { lang } = useI18n();
  const q = useActiveAlerts();
  const navigate = useNavigate();
  const n = firingCount(q.data?.alerts);
  const label = LABEL[lang](n);
  return (
    <Tooltip title={label}>
      <Button
        type="text"
        icon={<BellOutlined />}
        aria-label={label}
        data-testid="alert-bell"
        data-count={n}
        className={n > 0 ? 'alert-bell alert-bell-firing' : 'alert-bell'}
        onClick={() => navigate('/alerts')}
      >
        {n > 0 ? <span className="alert-bell-count">{n}</span> : null}
      </Button>
    </Tooltip>
  );
}
