//! The `SmsGate` Durable Object, one per phone number (named by its E.164 form), and the
//! Worker's client for it. Everything done with a phone's codes runs inside its object,
//! so it happens one request at a time, in one place; `app::sms_gate` says why that
//! keeps the invariants.

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, ObjectNamespace, Request, Response, Result, State, Storage,
};

use super::durable::call_object;
use super::kv_stores::{KvCodeStore, KV_BINDING};
use super::platform::{settings, WorkerClock};
use super::sms_sender::ProviderSender;
use crate::app::ports::{Claim, CodeGate};
use crate::app::sms_gate::{Gate, GatePolicy, GateState, GateStateStore};
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::random::SecureRandom;
use crate::domain::sms_code::{CodeSeal, SmsCode, MIN_CODE_SECRET_BYTES};

/// The binding name in `wrangler.toml`.
pub const SMS_GATE_BINDING: &str = "SMS_GATE";

const STATE_KEY: &str = "gate";

/// What the Worker asks of a gate: `POST /<operation>` with this body.
#[derive(Debug, Default, Serialize, Deserialize)]
struct GateCall {
    phone: String,
    code: Option<String>,
    claim: Option<Claim>,
}

/// The gate's answer: the code issued or the claim taken, or the error as it is.
#[derive(Debug, Default, Serialize, Deserialize)]
struct GateAnswer {
    code: Option<String>,
    claim: Option<Claim>,
    error: Option<ApiError>,
}

#[durable_object(fetch)]
pub struct SmsGate {
    state: State,
    env: Env,
}

impl DurableObject for SmsGate {
    fn new(state: State, env: Env) -> Self {
        SmsGate { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let operation = req.path();
        let answer = match req.json::<GateCall>().await {
            Ok(call) => self.run(operation.trim_start_matches('/'), call).await,
            Err(error) => Err(ApiError::internal(format!("bad gate call: {error}"))),
        };
        Response::from_json(
            &answer.unwrap_or_else(|error| GateAnswer { error: Some(error), ..GateAnswer::default() }),
        )
    }
}

impl SmsGate {
    async fn run(&self, operation: &str, call: GateCall) -> std::result::Result<GateAnswer, ApiError> {
        let phone =
            Phone::parse(&call.phone).ok_or_else(|| ApiError::internal("gate called without a phone"))?;
        let sms = settings(&self.env).map_err(ApiError::internal)?.sms;
        let seal =
            sms.code_secret.as_deref().and_then(|secret| CodeSeal::new(secret.as_bytes())).ok_or_else(
                || {
                    ApiError::internal(format!(
                        "SMS_CODE_SECRET must be set, with at least {MIN_CODE_SECRET_BYTES} bytes"
                    ))
                },
            )?;
        let sender = ProviderSender { provider: sms.provider, timeout_ms: sms.provider_timeout_ms };
        let codes = KvCodeStore(self.env.kv(KV_BINDING).map_err(ApiError::internal)?);
        let state = ObjectStorage(self.state.storage());
        let gate = Gate {
            state: &state,
            codes: &codes,
            sender: &sender,
            clock: &WorkerClock,
            rng: &SecureRandom,
            seal: &seal,
            policy: GatePolicy {
                code_ttl_seconds: sms.code_ttl_seconds,
                max_guesses: sms.max_guesses,
                per_phone: sms.per_phone,
            },
        };
        let claim = || call.claim.clone().ok_or_else(|| ApiError::internal("gate called without a claim"));
        let mut answer = GateAnswer::default();
        match operation {
            "issue" => answer.code = Some(gate.issue(&phone).await?.as_str().to_string()),
            "claim" => {
                let code = call.code.as_deref().and_then(SmsCode::parse).ok_or(ApiError::WrongSmsCode)?;
                answer.claim = Some(gate.claim(&phone, &code).await?);
            }
            "consume" => gate.consume(&phone, &claim()?).await?,
            "release" => gate.release(&claim()?).await?,
            other => return Err(ApiError::internal(format!("unknown gate operation {other:?}"))),
        }
        Ok(answer)
    }
}

/// The object's transactional storage. Its calls keep the object's input gate closed,
/// so a read followed by a write here is atomic with respect to other requests.
struct ObjectStorage(Storage);

impl GateStateStore for ObjectStorage {
    async fn load(&self) -> std::result::Result<GateState, ApiError> {
        Ok(self.0.get::<GateState>(STATE_KEY).await.map_err(ApiError::internal)?.unwrap_or_default())
    }

    async fn save(&self, state: &GateState) -> std::result::Result<(), ApiError> {
        self.0.put(STATE_KEY, state).await.map_err(ApiError::internal)
    }
}

/// The Worker's side: calls the phone's object.
pub struct DurableSmsGate(pub ObjectNamespace);

impl DurableSmsGate {
    async fn call(&self, operation: &str, call: GateCall) -> std::result::Result<GateAnswer, ApiError> {
        let answer: GateAnswer = call_object(&self.0, &call.phone, operation, &call)
            .await
            .map_err(|error| ApiError::internal(format!("sms gate {operation}: {error}")))?;
        match answer.error {
            Some(error) => Err(error),
            None => Ok(answer),
        }
    }
}

fn call_for(phone: &Phone) -> GateCall {
    GateCall { phone: phone.e164().to_string(), ..GateCall::default() }
}

impl CodeGate for DurableSmsGate {
    async fn issue(&self, phone: &Phone) -> std::result::Result<SmsCode, ApiError> {
        let answer = self.call("issue", call_for(phone)).await?;
        answer
            .code
            .as_deref()
            .and_then(SmsCode::parse)
            .ok_or_else(|| ApiError::internal("sms gate issued no code"))
    }

    async fn claim(&self, phone: &Phone, code: &SmsCode) -> std::result::Result<Claim, ApiError> {
        let call = GateCall { code: Some(code.as_str().to_string()), ..call_for(phone) };
        self.call("claim", call).await?.claim.ok_or_else(|| ApiError::internal("sms gate gave no claim"))
    }

    async fn consume(&self, phone: &Phone, claim: &Claim) -> std::result::Result<(), ApiError> {
        self.call("consume", GateCall { claim: Some(claim.clone()), ..call_for(phone) }).await.map(|_| ())
    }

    async fn release(&self, phone: &Phone, claim: &Claim) -> std::result::Result<(), ApiError> {
        self.call("release", GateCall { claim: Some(claim.clone()), ..call_for(phone) }).await.map(|_| ())
    }
}
