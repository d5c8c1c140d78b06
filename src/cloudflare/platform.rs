//! Time and configuration as the Worker runtime provides them.

use worker::{Date, Env};

use crate::domain::clock::Clock;
use crate::domain::settings::Settings;

/// The runtime's clock (`Date.now()`). Inside a request it advances only with I/O, as
/// Workers coarsen timers against side channels; that is precise enough for tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_millis(&self) -> u64 {
        Date::now().as_millis()
    }
}

/// Reads [`Settings`] from the Worker's vars and secrets.
pub fn settings(env: &Env) -> std::result::Result<Settings, String> {
    Settings::from_lookup(|name| {
        env.var(name).or_else(|_| env.secret(name)).ok().map(|value| value.to_string())
    })
}
