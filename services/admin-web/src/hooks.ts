import { useCallback, useEffect, useState } from 'react';

export type Loadable<T> =
  | { readonly state: 'loading'; readonly data: T | undefined }
  | { readonly state: 'ok'; readonly data: T }
  | { readonly state: 'error'; readonly error: unknown; readonly data: T | undefined };

/**
 * Loads `load` when `key` changes or `reload()` is called, cancelling the previous request so a slow
 * answer for an old store can never overwrite the current one. Keeps the last data while reloading so a
 * chart does not blink empty after every save; give the component a React `key` per store so another
 * store starts empty.
 */
export function useLoad<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
): Loadable<T> & { reload: () => void } {
  const [tick, setTick] = useState(0);
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading', data: undefined });

  useEffect(() => {
    const controller = new AbortController();
    setValue((v) => ({ state: 'loading', data: v.data }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setValue({ state: 'ok', data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setValue((v) => ({ state: 'error', error, data: v.data }));
      },
    );
    return () => controller.abort();
    // Not `load`: it is a fresh closure every render; `key` is what identifies the request.
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...value, reload };
}
