import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import App, { newQueryClient } from './App';
import { takeEarlyMachines } from './api/early';
import { keys } from './api/hooks';
import { loadSettings } from './state/settings';
import 'antd/dist/antd.css';
import './styles.css';

// Marks for the load-time report of the browser tests (e2e/run.mjs).
performance.mark('gpumon:scripts-ready');
const client = newQueryClient();
const settings = loadSettings();

// Render once the early machine list is in (or has failed, or is late), so the
// first render shows the fleet rather than a placeholder.
void takeEarlyMachines(settings, 400).then((machines) => {
  if (machines) client.setQueryData(keys.machines(settings.apiBase), machines);
  performance.mark('gpumon:render', { detail: { withFleet: !!machines } });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App client={client} initialSettings={settings} />
    </StrictMode>,
  );
});
