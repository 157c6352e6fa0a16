import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, loadSettings, normalizeSettings, resolveLanguage, saveSettings, SETTINGS_KEY } from './settings';

describe('settings', () => {
  it('fills defaults and refuses bad values', () => {
    expect(normalizeSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    const s = normalizeSettings({ refreshSeconds: 0.2, defaultView: 'grid', apiBase: 'http://hub:7864/', theme: 'dark' });
    expect(s.refreshSeconds).toBe(5);
    expect(s.defaultView).toBe('list');
    expect(s.apiBase).toBe('http://hub:7864');
    expect(s.theme).toBe('dark');
    expect(normalizeSettings({ refreshSeconds: 1 }).refreshSeconds).toBe(1);
  });

  it('shows every process on GPU cards unless Python-only is chosen', () => {
    expect(DEFAULT_SETTINGS.pythonOnly).toBe(false);
    expect(normalizeSettings({ pythonOnly: true }).pythonOnly).toBe(true);
    expect(normalizeSettings({ pythonOnly: 'yes' }).pythonOnly).toBe(false);
  });

  it('copies commands over ssh to the machine by default, and keeps a usable pattern only', () => {
    expect(DEFAULT_SETTINGS.sshPattern).toBe('{host}');
    expect(normalizeSettings({ sshPattern: ' alice@{ip} ' }).sshPattern).toBe('alice@{ip}');
    expect(normalizeSettings({ sshPattern: '' }).sshPattern).toBe('');
    expect(normalizeSettings({ sshPattern: '{host}; reboot' }).sshPattern).toBe('{host}');
  });

  it('round-trips through storage and survives garbage', () => {
    localStorage.clear();
    saveSettings({ ...DEFAULT_SETTINGS, refreshSeconds: 9, adminToken: 'x' });
    expect(loadSettings()).toMatchObject({ refreshSeconds: 9, adminToken: 'x' });
    localStorage.setItem(SETTINGS_KEY, '{not json');
    expect(loadSettings()).toEqual(DEFAULT_SETTINGS);
  });

  it('follows the browser language unless set', () => {
    expect(resolveLanguage('auto', ['zh-CN', 'en'])).toBe('zh');
    expect(resolveLanguage('auto', ['en-US', 'zh-CN'])).toBe('en');
    expect(resolveLanguage('auto', [])).toBe('en');
    expect(resolveLanguage('zh', ['en-US'])).toBe('zh');
  });
});
