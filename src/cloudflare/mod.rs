//! The Cloudflare side (filled in next).
