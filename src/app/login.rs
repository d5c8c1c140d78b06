//! `POST /login/jwt/get`

use super::ports::UserStore;
use super::session::{Sessions, TokenPair};
use crate::domain::account::Account;
use crate::domain::error::ApiError;
use crate::domain::password::{PasswordHash, PasswordPolicy, Pbkdf2};
use crate::domain::random::Randomness;
use crate::domain::requests::LoginRequest;
use crate::domain::token::UserData;

/// What logging in needs.
pub struct Login<'a, U, P, R> {
    pub users: &'a U,
    pub kdf: &'a P,
    pub rng: &'a R,
    pub passwords: &'a PasswordPolicy,
}

impl<U: UserStore, P: Pbkdf2, R: Randomness> Login<'_, U, P, R> {
    /// Checks the password and opens a session. An unknown account, a wrong password and
    /// a disabled user give the same 50006, after the same work: an unknown account is
    /// checked against a dummy hash, so timing does not reveal which accounts exist.
    ///
    /// A hash weaker than the policy (fewer iterations, or no pepper where one is set) is
    /// replaced at a successful login, so that raising `PBKDF2_ITERATIONS` or adding
    /// `PASSWORD_PEPPER` reaches every active user, and the dummy hash, made by the
    /// policy, keeps costing what real ones cost.
    pub async fn log_in<S: Sessions>(
        &self,
        sessions: &S,
        request: &LoginRequest,
    ) -> Result<TokenPair, ApiError> {
        let user = match Account::parse(&request.account) {
            Ok(account) => self.users.find_by_account(&account).await?,
            Err(_) => None,
        };
        let stored_hash = user.as_ref().and_then(|user| PasswordHash::decode(&user.password_hash));
        let hash = stored_hash.clone().unwrap_or_else(|| PasswordHash::dummy(self.passwords));
        let password_matches =
            hash.verify(self.kdf, &request.pwd, self.passwords).await.map_err(ApiError::internal)?;
        let user = match user {
            Some(user) if password_matches && stored_hash.is_some() && !user.disabled => user,
            _ => return Err(ApiError::LoginFailed { account: request.account.clone() }),
        };
        if hash.is_weaker_than(self.passwords) {
            let upgraded = PasswordHash::create(self.kdf, self.rng, &request.pwd, self.passwords).await;
            // Best effort: the login succeeds whether or not the upgrade is stored.
            if let Ok(upgraded) = upgraded {
                let _ = self.users.update_password_hash(user.id, &upgraded).await;
            }
        }
        sessions.open(&UserData { uid: user.id, rid: user.roles }).await
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::app::in_memory::MemoryUsers;
    use crate::app::ports::{Created, NewUser};
    use crate::domain::password::NativePbkdf2;
    use crate::domain::phone::Phone;
    use crate::domain::random::SecureRandom;
    use pollster::block_on;

    /// Counts derivations and their iteration counts.
    #[derive(Default)]
    struct CountingPbkdf2(RefCell<Vec<u32>>);

    impl Pbkdf2 for CountingPbkdf2 {
        async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32], String> {
            self.0.borrow_mut().push(iterations);
            NativePbkdf2.derive(password, salt, iterations).await
        }
    }

    struct OpenSessions;

    impl Sessions for OpenSessions {
        async fn open(&self, user: &UserData) -> Result<TokenPair, ApiError> {
            Ok(TokenPair { jwt: format!("access for {}", user.uid), refresh_jwt: "refresh".into() })
        }
    }

    fn users_with(account: &str, password: &str, iterations: u32) -> MemoryUsers {
        let users = MemoryUsers::default();
        let policy = PasswordPolicy::new(iterations);
        let hash = block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, password, &policy)).unwrap();
        let user = NewUser {
            account: Account::parse(account).unwrap(),
            phone: Phone::parse("13911119999").unwrap(),
            password_hash: hash,
        };
        assert_eq!(block_on(users.create(&user, 0)).unwrap(), Created::User(1));
        users
    }

    fn attempt(
        users: &MemoryUsers,
        kdf: &CountingPbkdf2,
        account: &str,
        pwd: &str,
    ) -> Result<TokenPair, ApiError> {
        let policy = PasswordPolicy::new(2_000);
        let login = Login { users, kdf, rng: &SecureRandom, passwords: &policy };
        let request = LoginRequest { account: account.into(), pwd: pwd.into() };
        block_on(login.log_in(&OpenSessions, &request))
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
}
