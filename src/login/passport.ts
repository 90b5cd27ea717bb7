/**
 * @module login/passport
 * passport-local over the account service: username or email plus password, legacy hashes
 * upgraded on success (accounts/service.ts). Passport's own session support is not used: the
 * bridge session (login/session.ts) is the one session of every door.
 *
 * The sign-in throttle counts an attempt between the login's resolution and the password's
 * verification (accounts/service.ts `SignInGate`); the route hands its gate for one request
 * over with {@link gateSignIn}, since passport's verify callback only receives the request.
 */
import passport from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import type { AccountService, LoginResult, SignInGate } from '../accounts/service.ts'

const gates = new WeakMap<object, SignInGate>()

/** The gate the account service calls for this request's sign-in, before verifying the password. */
export function gateSignIn(req: object, gate: SignInGate): void {
  gates.set(req, gate)
}

/** passport's `info` for a refused sign-in. */
export interface SignInRefusal {
  message: 'invalid_credentials' | 'account_disabled' | 'throttled'
  retryAfter?: number
}

/**
 * A passport instance with one local strategy (`username` / `password` fields) over the
 * account service, without passport sessions. A refusal's `info` is a {@link SignInRefusal}.
 * @example
 * const passport = createPassport(accounts)
 * gateSignIn(req, gate)
 * passport.authenticate('local', { session: false }, callback)(req, res, next)
 */
export function createPassport(accounts: AccountService): passport.PassportStatic {
  const instance = new passport.Passport()
  instance.use(
    new LocalStrategy(
      {
        usernameField: 'username',
        passwordField: 'password',
        session: false,
        passReqToCallback: true,
      },
      (req, username, password, done) => {
        const gate = gates.get(req)
        accounts.authenticate(username, password, gate ? { gate } : {}).then(
          (result: LoginResult) => {
            if (result.ok) return done(null, result.account)
            const info: SignInRefusal =
              result.reason === 'throttled'
                ? { message: 'throttled', retryAfter: result.retryAfter }
                : { message: result.reason }
            done(null, false, info)
          },
          (err) => done(err),
        )
      },
    ),
  )
  return instance as unknown as passport.PassportStatic
}
