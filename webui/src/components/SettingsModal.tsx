import { Form, Input, InputNumber, Modal, Segmented, Select, Switch } from 'antd';
import { useEffect } from 'react';
import { validSshPattern } from '../lib/commands';
import type { Settings } from '../state/settings';
import { useI18n } from '../state/i18n';

export interface SettingsModalProps {
  open: boolean;
  value: Settings;
  onSave: (s: Settings) => void;
  onClose: () => void;
}

export default function SettingsModal({ open, value, onSave, onClose }: SettingsModalProps) {
  const { t } = useI18n();
  const [form] = Form.useForm<Settings>();
  useEffect(() => {
    if (open) form.setFieldsValue(value);
  }, [open, value, form]);
  return (
    <Modal
      title={t('settings.title')}
      open={open}
      okText={t('settings.save')}
      cancelText={t('settings.cancel')}
      onCancel={onClose}
      onOk={() => form.validateFields().then((v) => onSave({ ...value, ...v }))}
      destroyOnHidden
      width={560}
    >
      <Form form={form} initialValues={value} layout="vertical" requiredMark={false} className="settings-form" name="settings">
        <Form.Item name="apiBase" label={t('settings.apiBase')} extra={t('settings.apiBaseHint')}>
          <Input placeholder={window.location.origin} allowClear />
        </Form.Item>
        <Form.Item
          name="refreshSeconds"
          label={t('settings.refresh')}
          rules={[{ required: true, type: 'number', min: 1, max: 3600 }]}
        >
          <InputNumber min={1} max={3600} step={1} controls={false} style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="live" label={t('settings.live')} extra={t('settings.liveHint')} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="defaultView" label={t('settings.defaultView')}>
          <Segmented
            aria-label={t('settings.defaultView')}
            options={[
              { label: t('nav.list'), value: 'list' },
              { label: t('nav.window'), value: 'window' },
            ]}
          />
        </Form.Item>
        <Form.Item name="apiToken" label={t('settings.apiToken')} extra={t('settings.apiTokenHint')}>
          <Input.Password autoComplete="off" />
        </Form.Item>
        <Form.Item name="adminToken" label={t('settings.adminToken')} extra={t('settings.adminTokenHint')}>
          <Input.Password autoComplete="off" />
        </Form.Item>
        <Form.Item name="myUser" label={t('settings.myUser')} extra={t('settings.myUserHint')}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="sshPattern"
          label={t('settings.ssh')}
          extra={t('settings.sshHint')}
          rules={[{ validator: async (_, v?: string) => (validSshPattern((v ?? '').trim()) ? undefined : Promise.reject(new Error(t('settings.sshInvalid')))) }]}
        >
          <Input autoComplete="off" placeholder="{host}" />
        </Form.Item>
        <Form.Item name="pythonOnly" label={t('settings.pythonOnly')} extra={t('settings.pythonOnlyHint')} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="language" label={t('settings.language')}>
          <Select
            options={[
              { label: t('settings.auto'), value: 'auto' },
              { label: 'English', value: 'en' },
              { label: '中文', value: 'zh' },
            ]}
          />
        </Form.Item>
        <Form.Item name="theme" label={t('settings.theme')}>
          <Segmented
            aria-label={t('settings.theme')}
            options={[
              { label: t('settings.system'), value: 'system' },
              { label: t('settings.light'), value: 'light' },
              { label: t('settings.dark'), value: 'dark' },
            ]}
          />
        </Form.Item>
        <Form.Item name="density" label={t('settings.density')}>
          <Segmented
            aria-label={t('settings.density')}
            options={[
              { label: t('settings.comfortable'), value: 'comfortable' },
              { label: t('settings.compact'), value: 'compact' },
            ]}
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
