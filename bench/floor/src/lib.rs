//! The floor of `make bench`: a bare workers-rs Worker. `GET /healthz` answers 200 "ok",
//! anything else 404. Whatever the project's worker spends beyond this on its own
//! `/healthz` is its own code; this is what workers-rs under `wrangler dev` costs alone.

use worker::{event, Context, Env, Method, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    if req.method() == Method::Get && req.path() == "/healthz" {
        Response::ok("ok")
    } else {
        Response::error("not found", 404)
    }
}
