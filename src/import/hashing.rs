//! The import's one real cost: a PBKDF2 derivation per user, at the worker's iterations,
//! spread over every core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;

use crate::domain::password::{LegacyMd5, NativePbkdf2, PasswordHash, PasswordPolicy};
use crate::domain::random::SecureRandom;

/// Wraps each md5 in PBKDF2 (see [`PasswordHash::wrap_md5`]), on `threads` threads,
/// calling `done` after each; the hashes come back in the order of `md5s`.
pub fn wrap_all(
    md5s: &[&LegacyMd5],
    policy: &PasswordPolicy,
    threads: usize,
    done: &(dyn Fn() + Sync),
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let mut hashes = vec![String::new(); md5s.len()];
    let parts: Vec<Vec<(usize, String)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut part = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(md5) = md5s.get(index) else { break };
                        part.push((index, wrap(md5, policy)));
                        done();
                    }
                    part
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("a hashing thread panicked")).collect()
    });
    for (index, hash) in parts.into_iter().flatten() {
        hashes[index] = hash;
    }
    hashes
}

fn wrap(md5: &LegacyMd5, policy: &PasswordPolicy) -> String {
    // The native derivation never waits: its future is ready at once.
    PasswordHash::wrap_md5(&NativePbkdf2, &SecureRandom, md5, policy)
        .now_or_never()
        .expect("the native PBKDF2 is synchronous")
        .expect("the native PBKDF2 cannot fail")
        .encode()
}

/// One derivation at `policy`'s iterations on one core (the median of three): the floor
/// an import's hashing is held to, `users × this ÷ cores`.
pub fn one_derivation(policy: &PasswordPolicy) -> Duration {
    let md5 = LegacyMd5::of("floor");
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            wrap(&md5, policy);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn every_md5_is_wrapped_in_its_place() {
        let policy = PasswordPolicy::new(1_000);
        let md5s: Vec<LegacyMd5> = (0..9).map(|n| LegacyMd5::of(&format!("pw{n}"))).collect();
        let refs: Vec<&LegacyMd5> = md5s.iter().collect();
        let count = AtomicUsize::new(0);
        let hashes = wrap_all(&refs, &policy, 4, &|| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.into_inner(), 9);
        for (n, hash) in hashes.iter().enumerate() {
            let hash = PasswordHash::decode(hash).unwrap();
            let verified =
                hash.verify(&NativePbkdf2, &format!("pw{n}"), &policy).now_or_never().unwrap().unwrap();
            assert!(verified, "user {n}");
        }
    }
}
