import { useCallback, useEffect, useRef, useState } from 'react';
import { type ApiError, api, asApiError, type Query } from '../api';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  /** Loads again; `background` keeps the current data and error focus as they are. */
  reload(background?: boolean): Promise<void>;
  background: boolean;
}

/**
 * GETs `path` (with `query`) whenever either changes; null `path` waits. Earlier answers that
 * arrive late are dropped, so the page always shows what its current filters asked for.
 */
export function useApi<T>(path: string | null, query?: Query): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; background: boolean }>({
    loading: path !== null,
    background: false,
  });
  const key = path === null ? null : `${path}${JSON.stringify(query ?? {})}`;
  const current = useRef(0);
  const queryRef = useRef(query);
  queryRef.current = query;

  const load = useCallback(
    async (background = false) => {
      if (path === null) return;
      const ticket = ++current.current;
      setState((s) => ({ ...s, loading: true, background }));
      try {
        const data = await api<T>(path, queryRef.current ? { query: queryRef.current } : {});
        if (ticket === current.current) setState({ data, loading: false, background });
      } catch (error) {
        if (ticket === current.current) {
          setState((s) => ({
            ...(background && s.data !== undefined ? { data: s.data } : {}),
            error: asApiError(error, path),
            loading: false,
            background,
          }));
        }
      }
    },
    [path],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: key covers path and query
  useEffect(() => {
    void load();
  }, [key]);

  const { data, error } = state;
  return {
    ...(data !== undefined && { data }),
    ...(error !== undefined && { error }),
    loading: state.loading,
    background: state.background,
    reload: load,
  };
}
