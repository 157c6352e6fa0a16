// Small helpers the browser tests share.
import net from 'node:net';

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls fn until it returns something truthy, failing after timeoutMs with what it waited for. */
export async function waitFor(fn, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/**
 * Waits until a dialog, popup or select's dropdown has finished opening, so
 * that a click lands where it aims. Ant Design first draws a dialog at its
 * final place, transparent (rc-motion's "prepare" step), then zooms it in
 * from the pointer (a dropdown slides in); on a loaded machine the prepare
 * step can last two frames, which Playwright's stability check takes for
 * "still", and the click then goes where the button was before the zoom
 * moved it: lost, the dialog stays open. So: no enter/appear motion class
 * left and no animation running.
 */
export async function whenStill(locator) {
  await locator.waitFor();
  await locator.evaluate(async (el) => {
    const root = el.closest('.ant-modal-root, .ant-popover, .ant-dropdown, .ant-select-dropdown') ?? el;
    for (;;) {
      const moving = [root, ...root.querySelectorAll('*')].some((e) => /-(appear|enter)(-|\b)/.test(typeof e.className === 'string' ? e.className : ''));
      const running = root.getAnimations({ subtree: true }).filter((a) => a.playState !== 'finished');
      if (!moving && running.length === 0) return;
      await Promise.all(running.map((a) => a.finished.catch(() => {})));
      await new Promise((r) => requestAnimationFrame(r));
    }
  });
}

/** Frame times (ms) while the page scrolls by step px every frame for n frames: what a person scrolling sees. */
export async function scrollFrames(page, { step = 60, frames = 120 } = {}) {
  return page.evaluate(
    ({ step, frames }) =>
      new Promise((resolve) => {
        const times = [];
        let last = performance.now();
        let k = 0;
        const tick = (t) => {
          times.push(t - last);
          last = t;
          window.scrollBy(0, step);
          if (++k < frames) requestAnimationFrame(tick);
          else resolve(times.slice(1));
        };
        requestAnimationFrame(tick);
      }),
    { step, frames },
  );
}

/** "median 16.7 ms (60 fps), p95 20.1 ms, worst 48 ms, 2 of 119 frames over 50 ms" */
export function frameStats(times) {
  const s = [...times].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const median = at(0.5);
  return {
    median,
    text: `median ${median.toFixed(1)} ms (${Math.round(1000 / median)} fps), p95 ${at(0.95).toFixed(1)} ms, worst ${s[s.length - 1].toFixed(0)} ms, ${s.filter((x) => x > 50).length} of ${s.length} frames over 50 ms`,
  };
}

/** Elements in the page's document. */
export const domSize = (page) => page.evaluate(() => document.getElementsByTagName('*').length);

/** Contrast ratio of two CSS colours (rgb()/rgba() strings), WCAG's formula; alpha blended over the second. */
export function contrast(fg, bg) {
  const parse = (c) => (c.match(/[\d.]+/g) ?? ['0', '0', '0', '1']).map(Number);
  const [br, bgc, bb] = parse(bg);
  const [r, g, b, a = 1] = parse(fg);
  const mix = [r * a + br * (1 - a), g * a + bgc * (1 - a), b * a + bb * (1 - a)];
  const lum = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const [l1, l2] = [lum(mix), lum([br, bgc, bb])].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}
