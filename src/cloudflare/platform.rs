//! The Worker runtime's clock, its vars and secrets, and how a platform error becomes a
//! [`Fault`] that says what was being done.

use std::fmt::Display;

use worker::{Date, Env};

use crate::domain::clock::Clock;
use crate::domain::error::{Backend, Fault};

/// The runtime's clock (`Date.now()`). Inside a request it advances only with I/O, as
/// Workers coarsen timers against side channels; that is precise enough for tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_millis(&self) -> u64 {
        Date::now().as_millis()
    }
}

/// A var or secret by name, `None` when it is not set.
pub fn env_value(env: &Env, name: &str) -> Option<String> {
    env.var(name).or_else(|_| env.secret(name)).ok().map(|value| value.to_string())
}

/// `.or_fault(Backend::D1, "find a user")`: the platform's error, with what was being done.
pub trait OrFault<T> {
    fn or_fault(self, backend: Backend, doing: &str) -> Result<T, Fault>;
}

impl<T, E: Display> OrFault<T> for Result<T, E> {
    fn or_fault(self, backend: Backend, doing: &str) -> Result<T, Fault> {
        self.map_err(|cause| Fault::backend(backend, doing, cause))
    }
}
