//! The routes that are not `/login` endpoints: the public keys, the health check, and the
//! two static assets the worker answers for first: the demo page (which may be off, and
//! whose policy depends on the settings) and the OpenAPI document (so that a method it
//! does not take is a 9903 in the envelope, like everywhere else, rather than the
//! platform's bare 405). Both files are read from Workers Static Assets (`public/`).

use serde_json::json;
use worker::{Env, Headers, Request, Response};

use super::http::Reply;
use super::services::Isolate;
use crate::domain::demo_page::{security_headers, with_site_key};
use crate::domain::error::{Backend, Fault};

/// The `[assets]` binding in `wrangler.toml`.
const ASSETS_BINDING: &str = "ASSETS";

/// `GET /`: the demo page (the router answers 9902 while `DEMO_PAGE` is off), with
/// headers that keep it from being framed or posting anywhere but to the allowed origins,
/// and the Turnstile site key filled in when there is one.
pub async fn demo_page(req: &Request, env: &Env, isolate: &Isolate) -> Reply {
    match isolate {
        Ok(services) => {
            let site_key = services.settings.turnstile_site_key.as_deref();
            let headers = security_headers(&services.settings.allowed_origins, site_key.is_some());
            from_assets(req, env, &headers, site_key).await
        }
        Err(broken) => Reply::Envelope(Err(broken.error())),
    }
}

/// `GET /openapi.json`, served whatever the settings (its headers are `public/_headers`).
pub async fn openapi(req: &Request, env: &Env) -> Reply {
    from_assets(req, env, &[], None).await
}

/// The static asset the request names, with `extra` headers, and the site key written
/// into it if there is one (the demo page only).
async fn from_assets(req: &Request, env: &Env, extra: &[(&str, String)], site_key: Option<&str>) -> Reply {
    let fetched = async {
        let mut response = env.assets(ASSETS_BINDING)?.fetch_request(req.clone()?).await?;
        let html = match site_key {
            Some(key) if response.status_code() == 200 => Some(with_site_key(&response.text().await?, key)),
            _ => None,
        };
        Ok::<_, worker::Error>((response, html))
    };
    match fetched.await {
        Ok((response, html)) => {
            // A fetched response's headers are immutable: the answer gets a copy.
            let headers = Headers::new();
            for (name, value) in response.headers().entries() {
                let _ = headers.append(&name, &value);
            }
            for (name, value) in extra {
                let _ = headers.set(name, value);
            }
            let status = response.status_code();
            let response = match html {
                Some(html) => {
                    let _ = headers.delete("Content-Length");
                    let _ = headers.delete("ETag");
                    match Response::ok(html) {
                        Ok(rewritten) => rewritten,
                        Err(error) => return asset_fault(error),
                    }
                }
                None => response,
            };
            Reply::Ready(response.with_status(status).with_headers(headers), u32::from(status))
        }
        Err(error) => asset_fault(error),
    }
}

fn asset_fault(error: worker::Error) -> Reply {
    Reply::Envelope(Err(Fault::backend(Backend::Runtime, "read a static asset", error).into()))
}

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
