/**
 * @module http/passport
 * passport-local over the account service: username or email plus password, legacy hashes
 * upgraded on success (accounts/service.ts). Passport's own session support is not used: the
 * bridge session (login/session.ts) is the one session of every door.
 */
import passport from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import type { AccountService, LoginResult } from '../accounts/service.ts'

export function createPassport(accounts: AccountService): passport.PassportStatic {
  const instance = new passport.Passport()
  instance.use(
    new LocalStrategy({ usernameField: 'username', passwordField: 'password', session: false }, (username, password, done) => {
      accounts.authenticate(username, password).then(
        (result: LoginResult) => (result.ok ? done(null, result.account) : done(null, false, { message: result.reason })),
        (err) => done(err),
      )
    }),
  )
  return instance as unknown as passport.PassportStatic
}
