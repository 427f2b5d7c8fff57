type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

interface Entry {
  payload: Payload;
  expiresAtMs: number | undefined;
}

/** The adapter interface oidc-provider calls (docs: "adapter"). */
export interface OidcAdapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/**
 * An in-memory oidc-provider adapter class whose storage belongs to one sandbox instance (the
 * library's own memory adapter keeps one store for the whole process). Expiry follows the real
 * clock, as oidc-provider's own `exp` checks do.
 */
export function memoryAdapterClass(): new (model: string) => OidcAdapter {
  const entries = new Map<string, Entry>();
  const byGrant = new Map<string, Set<string>>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  return class MemoryAdapter implements OidcAdapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const key = this.key(id);
      entries.set(key, { payload, expiresAtMs: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
      if (payload.grantId) {
        const keys = byGrant.get(payload.grantId) ?? new Set<string>();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
      if (payload.uid)
        entries.set(`${this.model}:uid:${payload.uid}`, { payload: { id }, expiresAtMs: undefined });
      if (payload.userCode) {
        entries.set(`${this.model}:userCode:${payload.userCode}`, {
          payload: { id },
          expiresAtMs: undefined,
        });
      }
    }

    async find(id: string): Promise<Payload | undefined> {
      return live(this.key(id))?.payload;
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      const ref = entries.get(`${this.model}:uid:${uid}`)?.payload.id;
      return typeof ref === 'string' ? this.find(ref) : undefined;
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      const ref = entries.get(`${this.model}:userCode:${userCode}`)?.payload.id;
      return typeof ref === 'string' ? this.find(ref) : undefined;
    }

    async consume(id: string): Promise<void> {
      const entry = live(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      entries.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
      byGrant.delete(grantId);
    }
  };
}
