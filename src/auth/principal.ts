import { AppError } from '../errors'

/** The roles a token may carry, least first: each may do what the ones before it may. */
export const ROLES = ['reader', 'editor', 'admin'] as const
export type Role = (typeof ROLES)[number]
export const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 }

/** A workspace id as a token names it: letters, digits, dot, dash and underscore. */
export const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Who is calling (and so who is writing): the verified token's subject, role and workspace. */
export interface Principal {
  sub: string
  role: Role
  ws: string
  /** When the token (or link) it came from expires, in seconds since the epoch: a link made with it lives no longer. */
  expiresAt?: number
}

/** A valid token whose workspace this service does not hold (production: workspaces are registered). */
export class UnknownWorkspace extends AppError {
  constructor(id: string, claim: string) {
    super(403, 'unknown_workspace', `The token's workspace "${id}" (claim ${claim}) is not registered here; an operator adds it with: npm run workspace -- add ${id}`)
  }
}
