import { createLocalJWKSet, errors, JWTHeaderParameters, FlattenedJWSInput } from 'jose'
import { AppError } from '../errors'

type LocalKeySet = ReturnType<typeof createLocalJWKSet>

export class KeysUnavailable extends AppError {
  constructor() {
    super(503, 'identity_provider_unavailable', 'The identity provider\'s signing keys could not be fetched; try again shortly')
  }
}

export interface KeySetLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * The identity provider's published signing keys (JWKS), matched to a token by `kid` with jose's
 * key-set matching. The set is fetched on first use, again when it is older than `refreshMs` (so a
 * key the provider withdrew stops being trusted) and when a token names a `kid` the set lacks (the
 * provider rotated). Whatever the reason, and whether a fetch succeeded or failed, there is at most
 * one fetch per `cooldownMs`: tokens with made-up kids, or an outage, cannot make the service hammer
 * the provider. A failed refresh keeps the keys it has.
 */
export class RemoteKeySet {
  private local: LocalKeySet | null = null
  private fetchedAt = -Infinity
  private attemptedAt = -Infinity
  private pending: Promise<void> | null = null

  constructor(
    private readonly url: string,
    private readonly refreshMs: number,
    private readonly cooldownMs: number,
    private readonly log: KeySetLog,
    private readonly timeoutMs = 5000,
  ) {}

  /**
   * The keys as last fetched, while they are not due for a refresh: a token verified with them may be
   * taken again without verifying (TokenVerifier's cache) only while this is the same object.
   */
  get current(): object | null {
    return this.local && Date.now() < this.fetchedAt + this.refreshMs ? this.local : null
  }

  private coolingDown(): boolean {
    return Date.now() < this.attemptedAt + this.cooldownMs
  }

  /** The key for a token's header (jose's key resolver). */
  async key(header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if ((!this.local || Date.now() >= this.fetchedAt + this.refreshMs) && !this.coolingDown()) await this.refresh()
    if (!this.local) throw new KeysUnavailable()
    try {
      return await this.local(header, token)
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || this.coolingDown()) throw err
      await this.refresh()
      return this.local(header, token)
    }
  }

  /** Fetches the set now (concurrent callers share one fetch); failures are logged, not thrown. */
  refresh(): Promise<void> {
    this.pending ??= this.fetch().finally(() => { this.pending = null })
    return this.pending
  }

  private async fetch(): Promise<void> {
    this.attemptedAt = Date.now()
    try {
      const response = await fetch(this.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
      const jwks = await response.json()
      this.local = createLocalJWKSet(jwks)
      this.fetchedAt = Date.now()
      this.log.info({ jwksUrl: this.url, keys: (jwks.keys as { kid?: string }[]).map((k) => k.kid ?? null) }, 'identity provider keys fetched')
    } catch (err) {
      this.log.warn({ jwksUrl: this.url, error: (err as Error).message, keptKeys: this.local !== null }, 'identity provider keys could not be fetched')
    }
  }
}
