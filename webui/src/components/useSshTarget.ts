import { sshTarget } from '../lib/commands';
import { useSettings } from '../state/SettingsContext';
import type { MachineSummary } from '../api/types';

/** What a copied command needs to know of its machine. */
export type SshMachine = Pick<MachineSummary, 'key' | 'hostname' | 'ip_address'>;

/** Where copied commands for this machine ssh to (Settings → ssh target); empty: copy them bare. */
export function useSshTarget(machine: SshMachine | undefined): string {
  const { settings } = useSettings();
  return machine ? sshTarget(settings.sshPattern, machine) : '';
}
