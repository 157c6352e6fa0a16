import { Button, Flex, Input, Result, Typography } from 'antd';
import { ApiOutlined, LockOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { ApiError } from '../api/client';
import { useI18n } from '../state/i18n';

export interface ErrorStateProps {
  error: unknown;
  /** Where the page looks for the hub, for the "unreachable" message. */
  hubUrl: string;
  onRetry?: () => void;
  onOpenSettings?: () => void;
  onSaveToken?: (token: string) => void;
}

/** An error a person understands: hub unreachable, token needed, or the hub's own message. */
export function ErrorState({ error, hubUrl, onRetry, onOpenSettings, onSaveToken }: ErrorStateProps) {
  const { t } = useI18n();
  const [token, setToken] = useState('');
  const status = error instanceof ApiError ? error.status : -1;
  const message = error instanceof Error ? error.message : String(error);
  const retry = onRetry ? (
    <Button key="retry" type="primary" onClick={onRetry}>
      {t('err.retry')}
    </Button>
  ) : null;
  const settings = onOpenSettings ? (
    <Button key="settings" onClick={onOpenSettings}>
      {t('err.openSettings')}
    </Button>
  ) : null;
  if (status === 0 || status === 502 || status === 504) {
    return (
      <Result
        status="warning"
        icon={<ApiOutlined />}
        title={t('err.unreachable')}
        subTitle={t('err.unreachableBody', { url: hubUrl })}
        extra={[retry, settings]}
      />
    );
  }
  if (status === 401) {
    return (
      <Result
        status="403"
        icon={<LockOutlined />}
        title={t('err.unauthorized')}
        subTitle={t('err.unauthorizedBody')}
        extra={
          <Flex gap={8} justify="center" wrap>
            <Input.Password
              aria-label="API token"
              placeholder="API token"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              onPressEnter={() => token && onSaveToken?.(token)}
              style={{ maxWidth: 280 }}
            />
            <Button type="primary" disabled={!token} onClick={() => onSaveToken?.(token)}>
              {t('err.saveToken')}
            </Button>
          </Flex>
        }
      />
    );
  }
  return (
    <Result
      status={status === 403 ? '403' : 'error'}
      title={status === 403 ? t('err.forbidden') : t('err.generic')}
      subTitle={<Typography.Text>{status > 0 ? `${status}: ${message}` : message}</Typography.Text>}
      extra={[retry, settings]}
    />
  );
}
