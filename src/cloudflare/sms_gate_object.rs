//! The `SmsGate` Durable Object, one per phone number (named by its E.164 form), which
//! runs that phone's [`CodeGateCore`]. Everything done with a phone's codes runs inside
//! its object, so it happens one request at a time, in one place; `app::code_gate` says
//! why that keeps the invariants. The Worker's side of it is `super::sms_gate`.
//!
//! The class keeps the name `SmsGate` that its first migration in `wrangler.toml` gave
//! it: renaming a deployed Durable Object class takes a migration of its own.

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::durable::answer;
use super::sms_gate::{CodeGateCall, CodeGateProtocol, CodeGateReply, DurableCodeGateStorage};
use super::startup;
use crate::app::code_gate::CodeGateCore;
use crate::domain::error::{ApiError, Fault};
use crate::domain::phone::Phone;

#[durable_object(fetch)]
pub struct SmsGate {
    state: State,
    env: Env,
}

impl DurableObject for SmsGate {
    fn new(state: State, env: Env) -> Self {
        SmsGate { state, env }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        answer::<CodeGateProtocol, _>(req, |call| self.run(call)).await
    }
}

impl SmsGate {
    async fn run(&self, call: CodeGateCall) -> std::result::Result<CodeGateReply, ApiError> {
        let app = startup::isolate(&self.env).as_ref().map_err(|broken| broken.error())?;
        let storage = DurableCodeGateStorage(self.state.storage());
        let gate = CodeGateCore { app, storage: &storage };
        let phone = |text: &str| {
            Phone::parse(text).ok_or_else(|| Fault::Protocol("gate called without a phone".into()))
        };
        Ok(match call {
            CodeGateCall::Issue { phone: p, purpose, from } => {
                CodeGateReply::Issued(gate.issue(&phone(&p)?, purpose, &from).await?)
            }
            CodeGateCall::Decoy { from } => {
                gate.issue_decoy(&from).await?;
                CodeGateReply::Done
            }
            CodeGateCall::Claim { phone: p, code, purpose, from } => {
                CodeGateReply::Claimed(gate.claim(&phone(&p)?, &code, purpose, &from).await?)
            }
            CodeGateCall::Consume { phone: p, claim } => {
                gate.consume(&phone(&p)?, &claim).await?;
                CodeGateReply::Done
            }
            CodeGateCall::Release { claim, .. } => {
                gate.release(&claim).await?;
                CodeGateReply::Done
            }
        })
    }
}
