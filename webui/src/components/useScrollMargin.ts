import { useEffect, useRef, useState } from 'react';

/**
 * How far below the top of the document an element starts, px, followed as
 * the content above it changes: the offset a window-scrolled virtual list
 * needs (its scrollMargin).
 */
export function useScrollMargin<E extends HTMLElement = HTMLDivElement>() {
  const ref = useRef<E>(null);
  const [margin, setMargin] = useState(0);
  useEffect(() => {
    const measure = () => {
      const el = ref.current;
      if (el) setMargin(Math.round(el.getBoundingClientRect().top + window.scrollY));
    };
    measure();
    window.addEventListener('resize', measure);
    // Anything above that grows or shrinks (a chart, a banner) changes the body's size.
    const ro = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(measure);
    ro?.observe(document.body);
    return () => {
      window.removeEventListener('resize', measure);
      ro?.disconnect();
    };
  }, []);
  return { ref, margin };
}
