//! The routes that are not `/login` endpoints: the public keys, the health check, and the
//! two static assets the worker answers for first: the demo page (which may be off, and
//! whose policy depends on the settings) and the OpenAPI document (so that a method it
//! does not take is a 9903 in the envelope, like everywhere else, rather than the
//! platform's bare 405). Both files are read from Workers Static Assets (`public/`).

use js_sys::Reflect;
use serde_json::json;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Env, Request, Response};

use super::http::Reply;
use super::startup::Isolate;
use crate::domain::demo_page::{security_headers, with_site_key};
use crate::domain::error::{Backend, Fault};

/// The `[assets]` binding in `wrangler.toml`.
const ASSETS_BINDING: &str = "ASSETS";

/// `GET /`: the demo page (the router answers 9902 while `DEMO_PAGE` is off), with
/// headers that keep it from being framed or posting anywhere but to the allowed origins,
/// and the Turnstile site key filled in when there is one.
pub async fn demo_page(req: &Request, env: &Env, isolate: &Isolate) -> Reply {
    match isolate {
        Ok(app) => {
            let site_key = app.settings.turnstile_site_key.as_deref();
            let headers = security_headers(&app.settings.allowed_origins, site_key.is_some());
            from_assets(req, env, &headers, site_key).await
        }
        Err(broken) => Reply::Envelope(Err(broken.error())),
    }
}

/// `GET /openapi.json`, served whatever the settings (its headers are `public/_headers`).
pub async fn openapi(req: &Request, env: &Env) -> Reply {
    from_assets(req, env, &[], None).await
}

// The `[assets]` binding, called directly: through `worker` a fetch clones the request,
// reads a reply chunk by chunk, and copies headers one entry at a time across the
// wasm boundary, where the runtime copies them in one call.
#[wasm_bindgen]
extern "C" {
    type AssetsBinding;
    #[wasm_bindgen(method, catch)]
    fn fetch(this: &AssetsBinding, request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
}

/// The static asset the request names, with `extra` headers, and the site key written
/// into it if there is one (the demo page only).
async fn from_assets(req: &Request, env: &Env, extra: &[(&str, String)], site_key: Option<&str>) -> Reply {
    match fetch_asset(req, env, extra, site_key).await {
        Ok(response) => {
            let status = response.status();
            Reply::Ready(Response::from(response), u32::from(status))
        }
        Err(error) => {
            Reply::Envelope(Err(Fault::backend(Backend::Runtime, "read a static asset", error).into()))
        }
    }
}

async fn fetch_asset(
    req: &Request,
    env: &Env,
    extra: &[(&str, String)],
    site_key: Option<&str>,
) -> Result<web_sys::Response, worker::Error> {
    let assets: AssetsBinding = Reflect::get(env, &JsValue::from_str(ASSETS_BINDING))?.unchecked_into();
    let fetched: web_sys::Response = JsFuture::from(assets.fetch(req.inner())?).await?.unchecked_into();
    // A fetched response's headers are immutable: the answer gets a copy.
    let headers = web_sys::Headers::new_with_headers(&fetched.headers())?;
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(fetched.status());
    init.set_headers(&headers);
    match site_key {
        Some(key) if fetched.status() == 200 => {
            let html = JsFuture::from(fetched.text()?).await?.as_string().unwrap_or_default();
            headers.delete("Content-Length")?;
            headers.delete("ETag")?;
            Ok(web_sys::Response::new_with_opt_str_and_init(Some(&with_site_key(&html, key)), &init)?)
        }
        _ => Ok(web_sys::Response::new_with_opt_readable_stream_and_init(fetched.body().as_ref(), &init)?),
    }
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
        Ok(app) => Reply::document(
            app.keys.jwks().to_string(),
            200,
            // Verifiers may cache the set; a rotation keeps the old key listed while it verifies.
            &[("Content-Type", "application/jwk-set+json"), ("Cache-Control", "public, max-age=300")],
        ),
        Err(broken) => Reply::Envelope(Err(broken.error())),
    }
}
