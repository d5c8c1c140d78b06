//! `POST /login/jwt/get`

use super::ports::UserStore;
use super::session::{Sessions, TokenPair};
use crate::domain::account::Account;
use crate::domain::error::ApiError;
use crate::domain::password::{PasswordHash, Pbkdf2};
use crate::domain::requests::LoginRequest;
use crate::domain::token::UserData;

/// What logging in needs.
pub struct Login<'a, U, P> {
    pub users: &'a U,
    pub kdf: &'a P,
    pub pbkdf2_iterations: u32,
}

impl<U: UserStore, P: Pbkdf2> Login<'_, U, P> {
    /// Checks the password and opens a session. An unknown account, a wrong password and
    /// a disabled user give the same 50006, after the same work: an unknown account is
    /// checked against a dummy hash, so timing does not reveal which accounts exist.
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
        let hash = stored_hash.clone().unwrap_or_else(|| PasswordHash::dummy(self.pbkdf2_iterations));
        let password_matches = hash.verify(self.kdf, &request.pwd).await.map_err(ApiError::internal)?;
        match user {
            Some(user) if password_matches && stored_hash.is_some() && !user.disabled => {
                sessions.open(&UserData { uid: user.id, rid: user.roles }).await
            }
            _ => Err(ApiError::LoginFailed { account: request.account.clone() }),
        }
    }
}
