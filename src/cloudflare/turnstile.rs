//! Turnstile's siteverify over `fetch`, within its deadline. The request and the reading
//! of the answer are `domain::turnstile`'s.

use super::platform::post_within;
use crate::app::ports::HumanCheck;
use crate::domain::error::{Backend, Fault};
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::turnstile::{Turnstile, Verdict, VERIFY_TIMEOUT_MS};

pub struct SiteVerify(pub Turnstile);

impl HumanCheck for SiteVerify {
    async fn verify(&self, token: &str, remote_ip: Option<&str>) -> Result<Verdict, Fault> {
        let request = self.0.request(token, remote_ip, &random_id(&SecureRandom));
        let fault = |cause: String| Fault::backend(Backend::Runtime, "check a Turnstile token", cause);
        let (status, body) = post_within(&request, VERIFY_TIMEOUT_MS).await.map_err(fault)?;
        Turnstile::verdict(status, &body).map_err(fault)
    }
}
