//! `make import`: the original PHP service's users and roles into D1 (native only).
//!
//! - [`dump`] reads the files (MySQL dumps, CSV) a row of cells at a time;
//! - [`legacy`] turns their rows into the original's users and roles, or says why not;
//! - [`plan`] decides, against what D1 already holds, what to write and what to skip;
//! - [`sql`] writes that as SQL in batches, and [`d1`] runs them with `wrangler d1`;
//! - [`report`] lists what was skipped and why, for a spreadsheet.
//!
//! [`hashing`] wraps the md5s on every core; the binary (`src/bin/login-import.rs`) shows
//! the progress.

pub mod d1;
pub mod dump;
pub mod hashing;
pub mod legacy;
pub mod plan;
pub mod report;
pub mod sql;
