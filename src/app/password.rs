//! `POST /login/password/reset` (a reset code proves the phone) and
//! `POST /login/password/change` (an access token and the current password). Both end
//! every session of the user, as "log out everywhere" does: whoever knew the old
//! password, or holds a token, is out.

use super::login::{account_and_ip_limit_key, account_limit_key, Login, LoginAftermath};
use super::ports::{CodeGate, Pbkdf2, Randomness, RateLimiter, Sessions, StoredUser, UserStore};
use super::session::TokenPair;
use super::{count_code_attempt, Caller};
use crate::domain::account::AccountLookup;
use crate::domain::error::ApiError;
use crate::domain::password::{Password, PasswordHash, PasswordPolicy};
use crate::domain::rate_limit::Limit;
use crate::domain::requests::{ChangePasswordRequest, ResetPasswordRequest};
use crate::domain::sms_code::CodePurpose;
use crate::domain::token::UserData;
use crate::domain::username::UnicodeFacts;

/// What a reset needs.
pub struct PasswordReset<'a, U, G, L, P, R, S> {
    pub users: &'a U,
    pub gate: &'a G,
    pub limiter: &'a L,
    /// Code attempts per address (see [`count_code_attempt`]).
    pub attempts_per_ip: Limit,
    pub kdf: &'a P,
    pub rng: &'a R,
    pub passwords: &'a PasswordPolicy,
    pub sessions: &'a S,
    /// What account names are compared with: the limits count by the name's key.
    pub names: &'a dyn UnicodeFacts,
}

impl<U, G, L, P, R, S> PasswordReset<'_, U, G, L, P, R, S>
where
    U: UserStore,
    G: CodeGate,
    L: RateLimiter,
    P: Pbkdf2,
    R: Randomness,
    S: Sessions,
{
    /// Claims the reset code (50001: wrong, expired, used, dead, or sent for a
    /// registration; counted as a wrong guess by the phone's gate), then sets the new
    /// password, which ends every session, and clears the account's failed logins (over
    /// all addresses, and from the caller's), so a locked-out owner gets back in. The code is used up only once all of that is done;
    /// if a step fails it is released, and a retry with it does the whole reset again.
    pub async fn reset(&self, request: &ResetPasswordRequest, caller: &Caller) -> Result<(), ApiError> {
        count_code_attempt(self.limiter, caller, self.attempts_per_ip).await?;
        let claim = self.gate.claim(&request.phone, &request.code, CodePurpose::Reset, caller).await?;
        match self.set_password(request, caller).await {
            Ok(()) => {
                // The password is set either way. Should consuming fail, the code can be
                // claimed again once the hold lapses (30 s) and while it lives: by its
                // holder only, who proved the phone already and can only reset again.
                let _ = self.gate.consume(&request.phone, &claim).await;
                Ok(())
            }
            Err(error) => {
                let _ = self.gate.release(&request.phone, &claim).await;
                Err(error)
            }
        }
    }

    async fn set_password(&self, request: &ResetPasswordRequest, caller: &Caller) -> Result<(), ApiError> {
        // A reset code is only sent to a phone with a user; one that is gone since (an
        // operator removed it) has nothing to reset.
        let user = self.users.find_by_phone(&request.phone).await?.ok_or(ApiError::WrongSmsCode)?;
        let hash =
            PasswordHash::create(self.kdf, self.rng, request.password.as_str(), self.passwords).await?;
        self.sessions.replace_password(user.id, &hash).await?;
        // Should this fail, the reset answers 9999 and releases the code: a retry sets the
        // same password again and clears the count then, rather than leaving the owner
        // locked out behind a success.
        let limit_name = AccountLookup::of(&user.account, self.names).limit_name();
        let (everywhere, here) = futures_util::future::join(
            self.limiter.clear(&account_limit_key(&limit_name)),
            self.limiter.clear(&account_and_ip_limit_key(&limit_name, caller)),
        )
        .await;
        everywhere.and(here)
    }
}

/// What a change needs: a login's, whose limits a wrong current password counts toward.
pub struct PasswordChange<'a, U, P, R, L, S> {
    pub login: &'a Login<'a, U, P, R, L, S>,
}

impl<U, P, R, L, S> PasswordChange<'_, U, P, R, L, S>
where
    U: UserStore,
    P: Pbkdf2,
    R: Randomness,
    L: RateLimiter,
    S: Sessions,
{
    /// Checks the access token (9908 for anything status would refuse, or a refresh
    /// token), then the current password as a login of the account would (50006, 9905
    /// past the limits), sets the new one, which ends every session of the user (the
    /// token sent included), and opens a new session so the caller stays signed in.
    /// Returns the aftermath of the password check, to settle once the answer is out.
    pub async fn change(
        &self,
        request: &ChangePasswordRequest,
        caller: &Caller,
    ) -> (Result<TokenPair, ApiError>, LoginAftermath) {
        let login = self.login;
        let user = match login.sessions.user_of_access_token(&request.jwt).await {
            Ok(user) => user,
            Err(error) => return (Err(error), LoginAftermath::default()),
        };
        let (checked, aftermath) = login.check_password_of(user, &request.pwd, caller).await;
        let outcome = match checked {
            Ok(user) => self.replace(user, &request.password).await,
            Err(error) => Err(error),
        };
        (outcome, aftermath)
    }

    async fn replace(&self, user: StoredUser, password: &Password) -> Result<TokenPair, ApiError> {
        let login = self.login;
        let hash = PasswordHash::create(login.kdf, login.rng, password.as_str(), login.passwords).await?;
        let epoch = login.sessions.replace_password(user.id, &hash).await?;
        login.sessions.open(&UserData { uid: user.id, rid: user.roles }, epoch).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::in_memory::{
        native_hash, MemoryCodeGate, MemoryLimiter, MemorySessionService, MemorySessions, MemoryUsers,
    };
    use crate::app::session::Refreshed;
    use crate::domain::clock::FixedClock;
    use crate::domain::error::AuthError;
    use crate::domain::password::NativePbkdf2;
    use crate::domain::random::SecureRandom;
    use crate::domain::rate_limit::Limit;
    use crate::domain::requests::LoginRequest;
    use crate::domain::settings::LoginLimits;
    use crate::domain::username::native::NativeUnicode;
    use pollster::block_on;

    const PHONE: &str = "13911119999";
    const NOW_MS: u64 = 1_702_719_320_000;
    const LIMITS: LoginLimits = LoginLimits {
        per_account_and_ip: Limit { max: 3, window_seconds: 900 },
        per_account: Limit { max: 30, window_seconds: 900 },
        per_ip: Limit { max: 100, window_seconds: 900 },
    };

    /// One user, `Foo` with `old_pass`, and everything the two flows work on.
    struct World {
        users: MemoryUsers,
        limiter: MemoryLimiter,
        sessions: MemorySessions,
        passwords: PasswordPolicy,
        clock: FixedClock,
    }

    impl World {
        fn new() -> World {
            World {
                users: MemoryUsers::with_user("Foo", PHONE, "old_pass", 1_000),
                limiter: MemoryLimiter::default(),
                sessions: MemorySessions::new(),
                passwords: PasswordPolicy::new(1_000),
                // The clock stands still, as a Worker's does between two I/O calls.
                clock: FixedClock(NOW_MS),
            }
        }

        fn sessions(&self) -> MemorySessionService<'_> {
            self.sessions.service(&self.users, &self.clock)
        }

        fn log_in(&self, pwd: &str) -> Result<TokenPair, ApiError> {
            let sessions = self.sessions();
            let login = self.login(&sessions);
            let request = LoginRequest { account: "foo".into(), pwd: pwd.into() };
            let (outcome, aftermath) = block_on(login.log_in(&request, &caller()));
            block_on(login.settle(aftermath)).unwrap();
            outcome
        }

        fn login<'a>(
            &'a self,
            sessions: &'a MemorySessionService<'a>,
        ) -> Login<'a, MemoryUsers, NativePbkdf2, SecureRandom, MemoryLimiter, MemorySessionService<'a>>
        {
            Login {
                users: &self.users,
                kdf: &NativePbkdf2,
                rng: &SecureRandom,
                passwords: &self.passwords,
                names: &NativeUnicode,
                limiter: &self.limiter,
                limits: LIMITS,
                sessions,
            }
        }

        fn reset(&self, gate: &MemoryCodeGate, code: &str) -> Result<(), ApiError> {
            let body = json!({"phone": PHONE, "code": code, "password": "new_pass",
                              "password_confirmation": "new_pass"});
            let request = ResetPasswordRequest::parse(body.to_string().as_bytes()).unwrap();
            let sessions = self.sessions();
            let reset = PasswordReset {
                users: &self.users,
                gate,
                limiter: &self.limiter,
                attempts_per_ip: Limit { max: 30, window_seconds: 3_600 },
                kdf: &NativePbkdf2,
                rng: &SecureRandom,
                passwords: &self.passwords,
                names: &NativeUnicode,
                sessions: &sessions,
            };
            block_on(reset.reset(&request, &caller()))
        }

        fn change(&self, jwt: &str, pwd: &str) -> Result<TokenPair, ApiError> {
            let body = json!({"jwt": jwt, "pwd": pwd, "password": "new_pass",
                              "password_confirmation": "new_pass"});
            let request = ChangePasswordRequest::parse(body.to_string().as_bytes()).unwrap();
            let sessions = self.sessions();
            let login = self.login(&sessions);
            let (outcome, aftermath) = block_on(PasswordChange { login: &login }.change(&request, &caller()));
            block_on(login.settle(aftermath)).unwrap();
            outcome
        }

        fn status(&self, jwt: &str) -> Result<(), ApiError> {
            block_on(self.sessions().status(jwt)).map(|_| ())
        }
    }

    fn caller() -> Caller {
        Caller::at(Some("1.2.3.4"))
    }

    const REVOKED: Result<(), ApiError> = Err(ApiError::Unauthorized(AuthError::Revoked));

    #[test]
    fn a_reset_sets_the_password_ends_every_session_and_uses_the_code() {
        let world = World::new();
        let before = world.log_in("old_pass").unwrap();
        let gate = MemoryCodeGate::with_code_for(PHONE, "123456", CodePurpose::Reset);
        world.reset(&gate, "123456").unwrap();
        assert!(gate.consumed());
        assert_eq!(world.status(&before.jwt), REVOKED);
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        // Logged in within the same millisecond as the reset: it reads the new epoch.
        let pair = world.log_in("new_pass").unwrap();
        assert!(world.status(&pair.jwt).is_ok());
        assert_eq!(world.reset(&gate, "123456"), Err(ApiError::WrongSmsCode), "used up");
    }

    #[test]
    fn a_registration_code_does_not_reset() {
        let world = World::new();
        let gate = MemoryCodeGate::with_code(PHONE, "123456");
        assert_eq!(world.reset(&gate, "123456"), Err(ApiError::WrongSmsCode));
        assert!(!gate.consumed());
        assert!(world.log_in("old_pass").is_ok());
    }

    #[test]
    fn a_reset_lets_a_locked_out_owner_back_in() {
        let world = World::new();
        for _ in 0..3 {
            assert!(matches!(world.log_in("guess"), Err(ApiError::LoginFailed { .. })));
        }
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::RateLimited { .. })));
        let gate = MemoryCodeGate::with_code_for(PHONE, "123456", CodePurpose::Reset);
        world.reset(&gate, "123456").unwrap();
        assert!(world.log_in("new_pass").is_ok());
    }

    #[test]
    fn a_change_ends_every_session_and_returns_a_pair_that_works() {
        let world = World::new();
        let sent = world.log_in("old_pass").unwrap();
        let other = world.log_in("old_pass").unwrap();
        let fresh = world.change(&sent.jwt, "old_pass").unwrap();
        // Same millisecond as the change: the new pair works, and so does what it refreshes.
        assert!(world.status(&fresh.jwt).is_ok());
        let refreshed = block_on(world.sessions().refresh(&fresh.refresh_jwt)).unwrap();
        let Refreshed::Access(refreshed) = refreshed else { panic!("no rotation here") };
        assert!(world.status(&refreshed).is_ok());
        assert_eq!(world.status(&sent.jwt), REVOKED);
        assert_eq!(world.status(&other.jwt), REVOKED);
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        assert!(world.log_in("new_pass").is_ok());
    }

    #[test]
    fn a_wrong_current_password_counts_as_a_failed_login_of_the_account() {
        let world = World::new();
        let pair = world.log_in("old_pass").unwrap();
        for _ in 0..3 {
            let failed = world.change(&pair.jwt, "guess");
            assert_eq!(failed, Err(ApiError::LoginFailed { account: "Foo".into() }));
        }
        assert!(matches!(world.change(&pair.jwt, "old_pass"), Err(ApiError::RateLimited { .. })));
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::RateLimited { .. })));
    }

    #[test]
    fn a_change_takes_only_a_live_access_token() {
        let world = World::new();
        let pair = world.log_in("old_pass").unwrap();
        let wrong_type = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        block_on(world.sessions().deactivate(&pair.jwt, crate::domain::requests::LogoutScope::Session))
            .unwrap();
        // As many refused tokens as the account has failures: none of them counts.
        for _ in 0..LIMITS.per_account_and_ip.max {
            assert_eq!(world.change(&pair.refresh_jwt, "guess").map(|_| ()), wrong_type);
            assert_eq!(world.change(&pair.jwt, "guess").map(|_| ()), REVOKED);
        }
        assert!(world.log_in("old_pass").is_ok(), "refused tokens cost the account nothing");
    }

    #[test]
    fn a_login_that_upgrades_a_hash_does_not_undo_a_reset_that_landed_meanwhile() {
        let world = World::new();
        // A hash weaker than the policy, which a login replaces after its answer.
        block_on(world.users.replace_password(1, &native_hash("old_pass", 500), 0)).unwrap();
        let sessions = world.sessions();
        let login = world.login(&sessions);
        let request = LoginRequest { account: "Foo".into(), pwd: "old_pass".into() };
        let (outcome, aftermath) = block_on(login.log_in(&request, &caller()));
        assert!(outcome.is_ok());
        let gate = MemoryCodeGate::with_code_for(PHONE, "123456", CodePurpose::Reset);
        world.reset(&gate, "123456").unwrap();
        block_on(login.settle(aftermath)).unwrap();
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        assert!(world.log_in("new_pass").is_ok());
    }
}
