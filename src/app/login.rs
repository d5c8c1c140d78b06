//! `POST /login/jwt/get`

use std::future::Future;
use std::pin::Pin;

use secrecy::{ExposeSecret, SecretString};

use super::ports::{Pbkdf2, Randomness, RateLimiter, Sessions, StoredUser, UserStore};
use super::session::TokenPair;
use super::Caller;
use crate::domain::account::{Account, AccountLookup};
use crate::domain::error::ApiError;
use crate::domain::password::{PasswordHash, PasswordPolicy};
use crate::domain::requests::LoginRequest;
use crate::domain::settings::LoginLimits;
use crate::domain::token::UserData;
use crate::domain::username::UnicodeFacts;

/// What logging in needs.
pub struct Login<'a, U, P, R, L, S> {
    pub users: &'a U,
    pub kdf: &'a P,
    pub rng: &'a R,
    pub passwords: &'a PasswordPolicy,
    pub limiter: &'a L,
    pub limits: LoginLimits,
    pub sessions: &'a S,
    /// What account names are compared with (see `domain::username`).
    pub names: &'a dyn UnicodeFacts,
}

/// How an attempt's hold in a limit window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldEnd {
    /// A failed guess: it counts.
    Settle,
    /// Not a guess (refused by the other limit, or a backend broke): it does not count.
    GiveBack,
    /// A success: the account's earlier failures are forgotten.
    ClearThrough,
}

#[derive(Debug)]
struct Hold {
    key: String,
    stamp: u64,
    end: HoldEnd,
}

/// What is left to do once the answer is out (on Cloudflare, in `ctx.wait_until`): end
/// the attempt's holds in the three limit windows, and store a stronger hash of a password
/// that was just checked against a weaker one. Until a hold ends it still counts, so a
/// late aftermath never lets a guess through; [`Login::settle`] runs it.
#[derive(Debug, Default)]
#[must_use = "an attempt's holds stay taken until its aftermath is settled"]
pub struct LoginAftermath {
    holds: Vec<Hold>,
    upgrade: Option<HashUpgrade>,
}

/// A stronger hash to store for a password that was just checked against a weaker one.
#[derive(Debug)]
struct HashUpgrade {
    uid: u64,
    /// The stored hash the password was checked against: the upgrade replaces only it.
    verified: String,
    password: SecretString,
}

impl LoginAftermath {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.holds.is_empty() && self.upgrade.is_none()
    }
}

/// The window of an account's failed logins from all addresses, named by the name's
/// [`AccountLookup::limit_name`] (so `Foo`, `FOO` and `Ｆｏｏ` share one). A password
/// reset clears it.
pub fn account_limit_key(limit_name: &str) -> String {
    format!("login-account:{limit_name}")
}

/// The window of an account's failed logins from one address. The address comes first:
/// it never holds a `|`, so no pair of account and address can name another's window.
/// A password reset clears the one of the address it comes from.
pub fn account_and_ip_limit_key(limit_name: &str, caller: &Caller) -> String {
    format!("login-ip-account:{}|{limit_name}", caller.ip)
}

/// The larger of two waits, when both limits refuse.
fn longer(a: ApiError, b: ApiError) -> ApiError {
    match (&a, &b) {
        (
            ApiError::RateLimited { retry_after_seconds: x },
            ApiError::RateLimited { retry_after_seconds: y },
        ) if y > x => b,
        _ => a,
    }
}

impl<U, P, R, L, S> Login<'_, U, P, R, L, S>
where
    U: UserStore,
    P: Pbkdf2,
    R: Randomness,
    L: RateLimiter,
    S: Sessions,
{
    /// Logs in, within the limits on failures (see [`LoginLimits`]): per account and
    /// address, per account, and per address, in 15 minutes; past any of them 9905 with
    /// `Retry-After`, whatever the password.
    ///
    /// An attempt holds a place in all three windows *before* the password is checked
    /// (atomically, in each window's Durable Object), so a burst of concurrent guesses
    /// cannot slip past the limit; the user is read from D1 meanwhile, and the password
    /// is hashed only once every hold is given, so a locked account costs no hash. A
    /// failure then counts in all three; a success gives the address's place back and
    /// clears the account's counts. Unknown accounts are counted the same way, so the
    /// limit reveals nothing about which accounts exist. That bookkeeping is the returned
    /// aftermath, done after the answer.
    pub async fn log_in(
        &self,
        request: &LoginRequest,
        caller: &Caller,
    ) -> (Result<TokenPair, ApiError>, LoginAftermath) {
        // A name no account can have (empty, over 64 characters) is not worth the
        // profile's work: it finds nobody, and its limits count it as it came.
        let (lookup, can_exist) = match Account::parse(&request.account) {
            Ok(name) => (AccountLookup::of(name.as_str(), self.names), true),
            Err(_) => (AccountLookup::without_key(&request.account), false),
        };
        let find_user = async {
            match can_exist {
                true => self.users.find_by_account(&lookup).await.map_err(ApiError::from),
                false => Ok(None),
            }
        };
        let find_user = std::pin::pin!(find_user);
        let limit_name = lookup.limit_name();
        let (checked, mut aftermath) =
            self.attempt(&request.account, &limit_name, &request.pwd, caller, find_user).await;
        match checked {
            Ok((user, upgrade)) => {
                aftermath.upgrade = upgrade;
                let epoch = user.sessions_not_before_ms;
                (self.sessions.open(&UserData { uid: user.id, rid: user.roles }, epoch).await, aftermath)
            }
            Err(error) => (Err(error), aftermath),
        }
    }

    /// Checks the password of a user already known (a password change, whose access
    /// token named the user) as a login of that account: a wrong one is a 50006 that
    /// counts toward the same limits, and past them even the right one is a 9905.
    pub async fn check_password_of(
        &self,
        user: StoredUser,
        pwd: &str,
        caller: &Caller,
    ) -> (Result<StoredUser, ApiError>, LoginAftermath) {
        let account = user.account.clone();
        let limit_name = AccountLookup::of(&account, self.names).limit_name();
        let known = std::pin::pin!(async { Ok(Some(user)) });
        let (checked, aftermath) = self.attempt(&account, &limit_name, pwd, caller, known).await;
        // No hash upgrade: a change replaces the hash anyway.
        (checked.map(|(user, _)| user), aftermath)
    }

    /// One attempt at `account_name`'s password (its windows named by `limit_name`)
    /// within the limits: a hold in each of the three windows and the user (`find_user`)
    /// at once, then the hash, and the holds' ends decided by the outcome. `find_user` is
    /// a trait object so that the attempt is compiled once for both its callers: each
    /// copy of an async function's state machine costs wasm.
    async fn attempt(
        &self,
        account_name: &str,
        limit_name: &str,
        pwd: &str,
        caller: &Caller,
        find_user: Pin<&mut dyn Future<Output = Result<Option<StoredUser>, ApiError>>>,
    ) -> (Result<(StoredUser, Option<HashUpgrade>), ApiError>, LoginAftermath) {
        // Each window, and how a success ends its hold: the account's two forget their
        // failures, the address's gives its place back.
        let windows = [
            (
                account_and_ip_limit_key(limit_name, caller),
                self.limits.per_account_and_ip,
                HoldEnd::ClearThrough,
            ),
            (account_limit_key(limit_name), self.limits.per_account, HoldEnd::ClearThrough),
            (format!("login-ip:{}", caller.ip), self.limits.per_ip, HoldEnd::GiveBack),
        ];
        let [a, b, c] = &windows;
        let (first, second, third, user) = futures_util::future::join4(
            self.limiter.hold(&a.0, a.1),
            self.limiter.hold(&b.0, b.1),
            self.limiter.hold(&c.0, c.1),
            find_user,
        )
        .await;
        let holds = [first, second, third];
        let mut given = Vec::new();
        let mut refused: Option<ApiError> = None;
        for ((key, _, on_success), hold) in windows.into_iter().zip(holds) {
            match hold {
                Ok(stamp) => given.push((Hold { key, stamp, end: HoldEnd::GiveBack }, on_success)),
                Err(error) => refused = Some(refused.map_or(error.clone(), |other| longer(other, error))),
            }
        }
        if let Some(refused) = refused {
            // Not a guess: the places given are given back.
            let holds = given.into_iter().map(|(hold, _)| hold).collect();
            return (Err(refused), LoginAftermath { holds, upgrade: None });
        }
        let checked = match user {
            Ok(user) => self.check_password(account_name, pwd, user).await,
            Err(error) => Err(error),
        };
        let holds = given
            .into_iter()
            .map(|(hold, on_success)| {
                let end = match &checked {
                    Ok(_) => on_success,
                    Err(ApiError::LoginFailed { .. }) => HoldEnd::Settle,
                    // Not a failed guess (D1 or the key broke): it does not count.
                    Err(_) => HoldEnd::GiveBack,
                };
                Hold { end, ..hold }
            })
            .collect();
        (checked, LoginAftermath { holds, upgrade: None })
    }

    /// Ends the holds of an attempt and stores its upgraded hash. Every step is tried;
    /// the first failure is returned (to be logged: the answer is already out).
    pub async fn settle(&self, aftermath: LoginAftermath) -> Result<(), ApiError> {
        // At most the three windows' holds, ended at once.
        let end = |index: usize| {
            let hold = aftermath.holds.get(index);
            async move {
                match hold {
                    Some(hold) => self.end_hold(hold).await,
                    None => Ok(()),
                }
            }
        };
        let (first, second, third) = futures_util::future::join3(end(0), end(1), end(2)).await;
        let ended = [first, second, third];
        let upgraded = match &aftermath.upgrade {
            Some(upgrade) => self.upgrade_hash(upgrade).await,
            None => Ok(()),
        };
        ended.into_iter().collect::<Result<(), ApiError>>().and(upgraded)
    }

    /// Checks the password. An unknown account, a wrong password and
    /// a disabled user give the same 50006, after the same work: an unknown account is
    /// checked against a dummy hash, so timing does not reveal which accounts exist.
    ///
    /// A hash weaker than the policy (fewer iterations, or no pepper where one is set) is
    /// to be replaced after a successful login (the second value), so that raising
    /// `PBKDF2_ITERATIONS` or adding `PASSWORD_PEPPER` reaches every active user, and the
    /// dummy hash, made by the policy, keeps costing what real ones cost.
    async fn check_password(
        &self,
        account_name: &str,
        pwd: &str,
        user: Option<StoredUser>,
    ) -> Result<(StoredUser, Option<HashUpgrade>), ApiError> {
        let stored_hash = user.as_ref().and_then(|user| PasswordHash::decode(&user.password_hash));
        let hash = stored_hash.clone().unwrap_or_else(|| PasswordHash::dummy(self.passwords));
        let password_matches = hash.verify(self.kdf, pwd, self.passwords).await?;
        let user = match user {
            Some(user) if password_matches && stored_hash.is_some() && !user.disabled => user,
            _ => return Err(ApiError::LoginFailed { account: account_name.to_string() }),
        };
        let upgrade = hash.is_weaker_than(self.passwords).then(|| HashUpgrade {
            uid: user.id,
            verified: user.password_hash.clone(),
            password: SecretString::from(pwd.to_string()),
        });
        Ok((user, upgrade))
    }

    async fn end_hold(&self, Hold { key, stamp, end }: &Hold) -> Result<(), ApiError> {
        match end {
            HoldEnd::Settle => self.limiter.settle(key, *stamp).await,
            HoldEnd::GiveBack => self.limiter.give_back(key, *stamp).await,
            HoldEnd::ClearThrough => self.limiter.clear_through(key, *stamp).await,
        }
    }

    async fn upgrade_hash(&self, upgrade: &HashUpgrade) -> Result<(), ApiError> {
        let password = upgrade.password.expose_secret();
        let stronger = PasswordHash::create(self.kdf, self.rng, password, self.passwords).await?;
        Ok(self.users.upgrade_password_hash(upgrade.uid, &upgrade.verified, &stronger).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::app::in_memory::{MemoryLimiter, MemoryUsers};
    use crate::domain::crypto::Crypto;
    use crate::domain::error::Fault;
    use crate::domain::password::NativePbkdf2;
    use crate::domain::random::SecureRandom;
    use crate::domain::rate_limit::Limit;
    use crate::domain::username::native::NativeUnicode;
    use pollster::block_on;

    /// Counts derivations and their iteration counts.
    #[derive(Default)]
    struct CountingPbkdf2(RefCell<Vec<u32>>);

    impl Pbkdf2 for CountingPbkdf2 {
        async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32], Fault> {
            self.0.borrow_mut().push(iterations);
            NativePbkdf2.derive(password, salt, iterations).await
        }

        fn crypto(&self) -> &'static dyn Crypto {
            NativePbkdf2.crypto()
        }
    }

    struct OpenSessions;

    impl Sessions for OpenSessions {
        async fn open(&self, user: &UserData, _epoch: u64) -> Result<TokenPair, ApiError> {
            Ok(TokenPair { jwt: format!("access for {}", user.uid), refresh_jwt: "refresh".into() })
        }

        async fn user_of_access_token(&self, _jwt: &str) -> Result<StoredUser, ApiError> {
            unreachable!("logging in checks no token")
        }

        async fn replace_password(&self, _uid: u64, _hash: &PasswordHash) -> Result<u64, ApiError> {
            unreachable!("logging in sets no password")
        }
    }

    fn users_with(account: &str, password: &str, iterations: u32) -> MemoryUsers {
        MemoryUsers::with_user(account, "13911119999", password, iterations)
    }

    fn attempt(
        users: &MemoryUsers,
        kdf: &CountingPbkdf2,
        account: &str,
        pwd: &str,
    ) -> Result<TokenPair, ApiError> {
        attempt_from(users, kdf, &MemoryLimiter::default(), account, pwd, "1.2.3.4")
    }

    const LIMITS: LoginLimits = LoginLimits {
        per_account_and_ip: Limit { max: 3, window_seconds: 900 },
        per_account: Limit { max: 7, window_seconds: 900 },
        per_ip: Limit { max: 5, window_seconds: 900 },
    };

    fn attempt_from(
        users: &MemoryUsers,
        kdf: &CountingPbkdf2,
        limiter: &MemoryLimiter,
        account: &str,
        pwd: &str,
        ip: &str,
    ) -> Result<TokenPair, ApiError> {
        let policy = PasswordPolicy::new(2_000);
        let login = Login {
            users,
            kdf,
            rng: &SecureRandom,
            passwords: &policy,
            names: &NativeUnicode,
            limiter,
            limits: LIMITS,
            sessions: &OpenSessions,
        };
        let request = LoginRequest { account: account.into(), pwd: pwd.into() };
        let (outcome, aftermath) = block_on(login.log_in(&request, &Caller::at(Some(ip))));
        block_on(login.settle(aftermath)).unwrap();
        outcome
    }

    #[test]
    fn an_address_takes_three_failures_at_an_account_then_waits_but_the_owner_elsewhere_does_not() {
        let (users, limiter, kdf) =
            (users_with("Foo", "secret1", 2_000), MemoryLimiter::default(), CountingPbkdf2::default());
        for _ in 0..3 {
            assert!(matches!(
                attempt_from(&users, &kdf, &limiter, "Foo", "wrong", "1.1.1.1"),
                Err(ApiError::LoginFailed { .. })
            ));
        }
        let limited = attempt_from(&users, &kdf, &limiter, "FOO", "secret1", "1.1.1.1");
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 900 }));
        assert_eq!(kdf.0.borrow().len(), 3, "no password is checked while limited");
        assert!(attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "2.2.2.2").is_ok(), "the owner");
        limiter.now_millis.set(900_000);
        assert!(attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "1.1.1.1").is_ok());
    }

    #[test]
    fn an_account_takes_seven_failures_over_all_addresses() {
        let (users, limiter, kdf) =
            (users_with("Foo", "secret1", 2_000), MemoryLimiter::default(), CountingPbkdf2::default());
        for i in 0..7 {
            let _ = attempt_from(&users, &kdf, &limiter, "Foo", "wrong", &format!("10.0.0.{i}"));
        }
        let limited = attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "10.0.1.1");
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 900 }));
        // The refusal gave back its places: the address can still try another account.
        assert!(matches!(
            attempt_from(&users, &kdf, &limiter, "Bar", "wrong", "10.0.1.1"),
            Err(ApiError::LoginFailed { .. })
        ));
    }

    #[test]
    fn until_its_aftermath_is_settled_an_attempt_keeps_its_place() {
        let (users, limiter, kdf) =
            (users_with("Foo", "secret1", 2_000), MemoryLimiter::default(), CountingPbkdf2::default());
        let policy = PasswordPolicy::new(2_000);
        let login = Login {
            users: &users,
            kdf: &kdf,
            rng: &SecureRandom,
            passwords: &policy,
            names: &NativeUnicode,
            limiter: &limiter,
            limits: LIMITS,
            sessions: &OpenSessions,
        };
        let request = |pwd: &str| LoginRequest { account: "Foo".into(), pwd: pwd.into() };
        let caller = Caller::at(Some("1.1.1.1"));
        // Three attempts in flight fill the account's three places: a fourth is refused
        // before any hash (the Durable Object client waits a while first).
        let pending: Vec<_> = (0..3).map(|_| block_on(login.log_in(&request("secret1"), &caller))).collect();
        assert!(pending.iter().all(|(outcome, _)| outcome.is_ok()));
        let (refused, aftermath) = block_on(login.log_in(&request("secret1"), &caller));
        assert_eq!(refused, Err(ApiError::RateLimited { retry_after_seconds: 1 }));
        assert_eq!(kdf.0.borrow().len(), 3);
        // Its place in the address's window is given back.
        block_on(login.settle(aftermath)).unwrap();
        for (_, aftermath) in pending {
            block_on(login.settle(aftermath)).unwrap();
        }
        assert!(block_on(login.log_in(&request("secret1"), &caller)).0.is_ok());
    }

    #[test]
    fn a_success_resets_the_accounts_count() {
        let (users, limiter, kdf) =
            (users_with("Foo", "secret1", 2_000), MemoryLimiter::default(), CountingPbkdf2::default());
        for _ in 0..2 {
            let _ = attempt_from(&users, &kdf, &limiter, "Foo", "wrong", "1.1.1.1");
        }
        attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "1.1.1.1").unwrap();
        for _ in 0..3 {
            assert!(matches!(
                attempt_from(&users, &kdf, &limiter, "Foo", "wrong", "1.1.1.1"),
                Err(ApiError::LoginFailed { .. })
            ));
        }
    }

    #[test]
    fn an_address_takes_five_failures_across_accounts() {
        let (users, limiter, kdf) =
            (users_with("Foo", "secret1", 2_000), MemoryLimiter::default(), CountingPbkdf2::default());
        for i in 0..5 {
            let _ = attempt_from(&users, &kdf, &limiter, &format!("guess{i}"), "wrong", "6.6.6.6");
        }
        assert!(matches!(
            attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "6.6.6.6"),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(attempt_from(&users, &kdf, &limiter, "Foo", "secret1", "7.7.7.7").is_ok());
    }

    #[test]
    fn the_right_password_opens_a_session() {
        let users = users_with("Foo", "secret1", 2_000);
        assert_eq!(
            attempt(&users, &CountingPbkdf2::default(), "foo", "secret1").unwrap().jwt,
            "access for 1"
        );
    }

    #[test]
    fn every_failure_costs_one_derivation_at_the_configured_count() {
        let users = users_with("Foo", "secret1", 2_000);
        users.insert_user(2, vec![]);
        users.disable(2);
        for (account, pwd) in
            [("Foo", "wrong"), ("nobody", "secret1"), ("user2", "x"), (&"a".repeat(100), "x")]
        {
            let kdf = CountingPbkdf2::default();
            let failed = attempt(&users, &kdf, account, pwd);
            assert_eq!(failed, Err(ApiError::LoginFailed { account: account.into() }), "{account}");
            assert_eq!(*kdf.0.borrow(), vec![2_000], "{account}");
        }
    }

    #[test]
    fn a_weaker_hash_is_upgraded_at_login() {
        let users = users_with("Foo", "secret1", 1_000);
        let kdf = CountingPbkdf2::default();
        attempt(&users, &kdf, "Foo", "secret1").unwrap();
        assert_eq!(*kdf.0.borrow(), vec![1_000, 2_000]);
        let stored = block_on(users.find_by_id(1)).unwrap().unwrap().password_hash;
        assert!(stored.starts_with("$pbkdf2-sha256$i=2000$"), "{stored}");
        assert!(attempt(&users, &CountingPbkdf2::default(), "Foo", "secret1").is_ok());
    }

    #[test]
    fn an_imported_md5_logs_in_with_its_short_password_once_and_is_replaced() {
        use crate::app::ports::NewUser;
        use crate::domain::password::LegacyMd5;
        use crate::domain::phone::Phone;
        let users = MemoryUsers::default();
        let md5 = LegacyMd5::of("abcd");
        let wrapped =
            block_on(PasswordHash::wrap_md5(&NativePbkdf2, &SecureRandom, &md5, &PasswordPolicy::new(2_000)))
                .unwrap();
        let user = NewUser {
            account: Account::parse("Jerry").unwrap(),
            account_key: "jerry".into(),
            phone: Phone::parse("15361158702").unwrap(),
            password_hash: wrapped,
        };
        block_on(users.create(&user, 0)).unwrap();
        assert!(
            attempt(&users, &CountingPbkdf2::default(), "jerry", md5.as_str()).is_err(),
            "the md5 is no password"
        );
        let kdf = CountingPbkdf2::default();
        attempt(&users, &kdf, "Jerry", "abcd").unwrap();
        assert_eq!(*kdf.0.borrow(), vec![2_000, 2_000], "checked, then hashed anew");
        let stored = block_on(users.find_by_id(1)).unwrap().unwrap().password_hash;
        assert!(stored.starts_with("$pbkdf2-sha256$i=2000$"), "{stored}");
        let kdf = CountingPbkdf2::default();
        assert!(attempt(&users, &kdf, "Jerry", "abcd").is_ok());
        assert_eq!(*kdf.0.borrow(), vec![2_000], "no second upgrade");
    }
}
