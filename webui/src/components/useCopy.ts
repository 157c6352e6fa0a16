import { App } from 'antd';
import { useCallback } from 'react';
import { copyText } from '../lib/clipboard';
import { useI18n } from '../state/i18n';

/** Copies text and says so. */
export function useCopy() {
  const { message } = App.useApp();
  const { t } = useI18n();
  return useCallback(
    async (text: string) => {
      const ok = await copyText(text);
      if (ok) void message.success(t('copy.done', { text }));
      else void message.warning(t('copy.failed', { text }), 8);
    },
    [message, t],
  );
}
