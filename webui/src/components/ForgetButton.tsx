import { App, Button, Popconfirm, Tooltip } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { ApiError } from '../api/client';
import { useForgetMachine } from '../api/hooks';
import type { MachineSummary } from '../api/types';
import type { MachineState } from '../lib/machine';
import { useI18n } from '../state/i18n';
import { useSettings } from '../state/SettingsContext';

/**
 * Removes an offline machine from the fleet (admin token), after a
 * confirmation. Nothing for a machine that is not offline (the hub refuses
 * those); disabled, with the reason, without the admin token.
 */
export function ForgetButton({ m, state, onForgotten }: { m: MachineSummary; state: MachineState; onForgotten?: () => void }) {
  const { t } = useI18n();
  const { settings } = useSettings();
  const { message } = App.useApp();
  const forget = useForgetMachine();
  const key = m.key ?? '';
  const host = m.hostname || key;
  if (state !== 'offline') return null;
  const reason = settings.adminToken ? undefined : t('forget.noAdmin');
  const button = (
    <Button size="small" danger icon={<DeleteOutlined />} disabled={!!reason} loading={forget.isPending} data-testid="forget-machine">
      {t('forget.button')}
    </Button>
  );
  if (reason) {
    return (
      <Tooltip title={reason}>
        <span className="forget-disabled">{button}</span>
      </Tooltip>
    );
  }
  return (
    <Popconfirm
      title={t('forget.confirmTitle', { host })}
      description={t('forget.confirmBody')}
      okText={t('forget.ok')}
      okButtonProps={{ danger: true }}
      cancelText={t('kill.cancel')}
      onConfirm={async () => {
        try {
          await forget.mutateAsync(key);
          void message.success(t('forget.done', { host }));
          onForgotten?.();
        } catch (e) {
          void message.error(t('forget.failed', { message: e instanceof ApiError ? e.message : String(e) }));
        }
      }}
    >
      {button}
    </Popconfirm>
  );
}
