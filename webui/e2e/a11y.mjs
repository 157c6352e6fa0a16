// Accessibility checks of the browser test: axe-core's WCAG 2.2 A and AA
// rules on a view, and the keyboard focus ring of its first controls.
import { AxeBuilder } from '@axe-core/playwright';
import { contrast } from './ui.mjs';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** axe's violations on the page now, one line each ("color-contrast: 3 × .chip-green …"). */
export async function axeViolations(page) {
  const r = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')} — ${v.help}`);
}

/**
 * Tabs through the first n controls and checks each one's focus indicator:
 * an outline of at least 2 px with 3:1 contrast against what is behind it
 * (WCAG 2.2: 2.4.7 focus visible, 1.4.11 non-text contrast). Returns the
 * controls that fail and how many were checked.
 */
export async function focusProblems(page, n = 12) {
  await page.evaluate(() => {
    document.activeElement?.blur?.();
    window.scrollTo(0, 0);
  });
  const bad = [];
  let checked = 0;
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(async () => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const name = `${el.tagName.toLowerCase()}${el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''}`;
      // The ring may be drawn on the control or on the wrapper that stands for it.
      const candidates = [el, el.nextElementSibling, el.closest('.ant-input-affix-wrapper, .ant-input-number, .ant-select, .ant-segmented-item, .ant-checkbox-wrapper, .ant-switch')].filter(Boolean);
      // Controls fade their ring in (a CSS transition): read it once it is there.
      await Promise.all(candidates.flatMap((c) => c.getAnimations()).filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => {})));
      const ring = candidates.map((c) => ({ c, s: getComputedStyle(c) })).find(({ s }) => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0);
      if (!ring) return { name, width: 0 };
      let bg = 'rgb(255, 255, 255)';
      for (let p = ring.c.parentElement; p; p = p.parentElement) {
        const c = getComputedStyle(p).backgroundColor;
        if (c && c !== 'transparent' && !/rgba\(.*, 0\)$/.test(c)) {
          bg = c;
          break;
        }
      }
      return { name, width: parseFloat(ring.s.outlineWidth), color: ring.s.outlineColor, bg };
    });
    if (!f) continue;
    checked++;
    const ratio = f.width ? contrast(f.color, f.bg) : 0;
    if (f.width < 2 || ratio < 3) bad.push(`${f.name}: ${f.width ? `${f.width}px ${f.color} on ${f.bg} (${ratio.toFixed(2)}:1)` : 'no focus ring'}`);
  }
  return { bad, checked };
}
