//! The routes that are not `/login` endpoints: the public keys and the health check. (The
//! demo page and the OpenAPI document are static assets in `public/`, which Cloudflare
//! serves without running the worker.)

use serde_json::json;

use super::http::Reply;
use super::services::Isolate;

/// `GET /healthz`, for monitors: 200 while the Worker serves; 503 naming the variable
/// when its configuration is unusable (the reason is in the log, and no value is shown).
pub fn health(isolate: &Isolate) -> Reply {
    let json = [("Content-Type", "application/json")];
    match isolate {
        Ok(_) => Reply::document(json!({ "status": "ok" }).to_string(), 200, &json),
        Err(broken) => {
            let body = json!({ "status": "misconfigured", "variable": broken.error.variable });
            Reply::document(body.to_string(), 503, &json)
        }
    }
}

/// `GET /.well-known/jwks.json`: the public keys tokens are signed with (EdDSA), so that
/// other services verify tokens without a secret. Empty with HS256, whose keys are secret.
pub fn jwks(isolate: &Isolate) -> Reply {
    match isolate {
        Ok(services) => Reply::document(
            services.jwks().to_string(),
            200,
            // Verifiers may cache the set; a rotation keeps the old key listed while it verifies.
            &[("Content-Type", "application/jwk-set+json"), ("Cache-Control", "public, max-age=300")],
        ),
        Err(broken) => Reply::Envelope(Err(broken.error())),
    }
}
